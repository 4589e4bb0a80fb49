"""A small folder of Korean and English documents (Markdown and a PDF) for the variant tests, and a variant
config over the loopback upstream: `echo` as the base, the upstream's `/v1/embeddings` for retrieval."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_config

KOREAN = """# 환불 정책

환불은 구매 후 14일 이내에 가능합니다. 영수증이 필요합니다.

# 배송 안내

제주도 배송은 보통 5일이 걸립니다. 다른 지역은 2일이 걸립니다.
"""
ENGLISH = """# Warranty

The warranty lasts seven years from the date of purchase.

# Support hours

Support answers calls from 9 am to 6 pm on weekdays.
"""
PDF_TEXT = "Visitors park for free on level B2 of the Gangnam building."

# question -> (document, a phrase only the right passage holds)
QUESTIONS = {
    "환불은 며칠 안에 가능한가요?": ("환불.md", "14일 이내"),
    "제주도 배송은 며칠 걸리나요?": ("환불.md", "5일이 걸립니다"),
    "How long does the warranty last?": ("policies/warranty.md", "seven years"),
    "When does support answer calls?": ("policies/warranty.md", "9 am to 6 pm"),
    "Where do visitors park for free?": ("parking.pdf", "level B2"),
}


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF showing `text` in Helvetica, with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def write_documents(folder: Path) -> Path:
    (folder / "policies").mkdir(parents=True, exist_ok=True)
    (folder / "환불.md").write_text(KOREAN, encoding="utf-8")
    (folder / "policies" / "warranty.md").write_text(ENGLISH, encoding="utf-8")
    (folder / "parking.pdf").write_bytes(tiny_pdf(PDF_TEXT))
    (folder / ".hidden.md").write_text("never read", encoding="utf-8")
    (folder / "notes.docx").write_bytes(b"not a document type GenSandbox reads")
    return folder


VARIANT = """
[[variants]]
name = "shop"
base = "echo"
system = "You answer questions about the shop."
few_shot = [{input = "안녕하세요", output = "안녕하세요! 무엇을 도와드릴까요?"}]
parameters = {temperature = 0.2, max_tokens = 64}
post_process = ["strip"]
retrieval = {folder = "docs", embedding = "bigrams", top_k = 1}
"""


def write_variant_config(directory: Path, upstream_url: str, variant: str = VARIANT, extra: str = "") -> Path:
    """gensandbox.toml in `directory` with models echo (the base) and bigrams (the embeddings endpoint), the
    documents in `directory`/docs and the variant."""
    write_documents(directory / "docs")
    return write_config(directory, upstream_url, {"echo": "echo", "bigrams": "bigrams"}, extra=variant + extra)
