"""An online shop for the built-in agent suites: search the catalogue, fill a cart, order, cancel and refund.

Deterministic and without I/O: new order numbers count up from O-2001, and the state is a few plain dicts, so the
`final-state` scorer can compare what the model left behind. Prices are whole units of the catalogue's currency
(won for `language="ko"`, dollars for "en"); the refusal messages the model reads are in the item's language.
Loaded by the runner from the suite's folder (runner/environments.py), not imported as a package module.
"""

from __future__ import annotations

import copy

CATALOGUE = {
    "ko": [
        {"product_id": "P-101", "name": "무선 마우스", "price": 35000, "stock": 12},
        {"product_id": "P-102", "name": "기계식 키보드", "price": 89000, "stock": 5},
        {"product_id": "P-103", "name": "USB-C 충전기", "price": 25000, "stock": 30},
        {"product_id": "P-104", "name": "노트북 거치대", "price": 42000, "stock": 8},
        {"product_id": "P-105", "name": "보조배터리 10000mAh", "price": 39000, "stock": 0},
        {"product_id": "P-106", "name": "블루투스 이어폰", "price": 129000, "stock": 4},
        {"product_id": "P-107", "name": "유기농 녹차 티백 50개입", "price": 12000, "stock": 40},
    ],
    "en": [
        {"product_id": "P-101", "name": "Wireless mouse", "price": 25, "stock": 12},
        {"product_id": "P-102", "name": "Mechanical keyboard", "price": 79, "stock": 5},
        {"product_id": "P-103", "name": "USB-C charger", "price": 19, "stock": 30},
        {"product_id": "P-104", "name": "Laptop stand", "price": 35, "stock": 8},
        {"product_id": "P-105", "name": "Power bank 10000mAh", "price": 29, "stock": 0},
        {"product_id": "P-106", "name": "Bluetooth earbuds", "price": 99, "stock": 4},
        {"product_id": "P-107", "name": "Green tea, 50 bags", "price": 9, "stock": 40},
    ],
}
# Orders the shopper already has: a delivered one to refund, one still being prepared to cancel.
PAST_ORDERS = {
    "O-1001": {"items": {"P-101": 1}, "status": "delivered"},
    "O-1002": {"items": {"P-103": 2}, "status": "placed"},
}
MAX_QUANTITY = 10
MESSAGES = {
    "en": {"no_product": "no product {id}; search_products gives the ids",
           "quantity": "quantity must be a whole number from 1 to {max}",
           "stock": "only {stock} of {id} in stock", "not_in_cart": "{id} is not in the cart",
           "empty_cart": "the cart is empty; add products with add_to_cart first",
           "address": "address is empty; give the full delivery address", "no_order": "no order {id}",
           "not_cancellable": "order {id} is {status}; only an order still being prepared (placed) can be cancelled",
           "not_refundable": "order {id} is {status}; only a delivered order can be refunded",
           "reason": "reason is empty; say why the order is refunded", "query": "query is empty"},
    "ko": {"no_product": "상품 {id}이(가) 없습니다. search_products로 상품 번호를 확인하세요",
           "quantity": "수량은 1부터 {max}까지의 정수여야 합니다",
           "stock": "{id}의 재고는 {stock}개뿐입니다", "not_in_cart": "{id}은(는) 장바구니에 없습니다",
           "empty_cart": "장바구니가 비어 있습니다. 먼저 add_to_cart로 상품을 담으세요",
           "address": "배송 주소가 비어 있습니다. 전체 주소를 입력하세요", "no_order": "주문 {id}이(가) 없습니다",
           "not_cancellable": "주문 {id}의 상태는 {status}입니다. 준비 중(placed)인 주문만 취소할 수 있습니다",
           "not_refundable": "주문 {id}의 상태는 {status}입니다. 배송 완료(delivered)된 주문만 환불할 수 있습니다",
           "reason": "환불 사유가 비어 있습니다", "query": "검색어가 비어 있습니다"},
}


class Shop:
    """Tools: search_products, add_to_cart, remove_from_cart, view_cart, place_order, get_order, cancel_order,
    refund_order. `cart` and `orders` (order id -> {items, status}) set the starting state."""

    def __init__(self, language: str = "en", cart: dict | None = None, orders: dict | None = None):
        if language not in CATALOGUE:
            raise ValueError(f"language must be one of {', '.join(CATALOGUE)}, not {language!r}")
        self.language = language
        self.products = {p["product_id"]: p for p in CATALOGUE[language]}
        self._start_cart = dict(cart or {})
        self._start_orders = copy.deepcopy(PAST_ORDERS if orders is None else orders)
        self.reset()

    def reset(self) -> None:
        self.cart: dict[str, int] = dict(self._start_cart)
        self.orders: dict[str, dict] = copy.deepcopy(self._start_orders)
        self.new_orders: list[str] = []
        self.refunds: dict[str, int] = {}

    def search_products(self, query: str) -> list[dict]:
        words = _require(query, self._say("query")).casefold().split()
        return [dict(p) for p in self.products.values() if all(word in p["name"].casefold() for word in words)]

    def add_to_cart(self, product_id: str, quantity: int = 1) -> dict:
        product = self._product(product_id)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise ValueError(self._say("quantity", max=MAX_QUANTITY))
        wanted = self.cart.get(product_id, 0) + quantity
        if wanted > product["stock"]:
            raise ValueError(self._say("stock", stock=product["stock"], id=product_id))
        self.cart[product_id] = wanted
        return self.view_cart()

    def remove_from_cart(self, product_id: str) -> dict:
        if product_id not in self.cart:
            raise ValueError(self._say("not_in_cart", id=product_id))
        del self.cart[product_id]
        return self.view_cart()

    def view_cart(self) -> dict:
        return {"items": dict(self.cart), "total": self._total(self.cart), "currency": self._currency()}

    def place_order(self, address: str) -> dict:
        if not self.cart:
            raise ValueError(self._say("empty_cart"))
        address = _require(address, self._say("address"))
        order_id = f"O-{2001 + len(self.new_orders)}"
        self.orders[order_id] = {"items": dict(self.cart), "status": "placed", "address": " ".join(address.split())}
        self.new_orders.append(order_id)
        self.cart = {}
        return {"order_id": order_id, "total": self._total(self.orders[order_id]["items"]),
                "currency": self._currency(), "status": "placed"}

    def get_order(self, order_id: str) -> dict:
        order = self._order(order_id)
        return {"order_id": order_id, **copy.deepcopy(order), "total": self._total(order["items"]),
                "currency": self._currency()}

    def cancel_order(self, order_id: str) -> dict:
        order = self._order(order_id)
        if order["status"] != "placed":
            raise ValueError(self._say("not_cancellable", id=order_id, status=order["status"]))
        order["status"] = "cancelled"
        return {"order_id": order_id, "status": "cancelled"}

    def refund_order(self, order_id: str, reason: str) -> dict:
        order = self._order(order_id)
        if order["status"] != "delivered":
            raise ValueError(self._say("not_refundable", id=order_id, status=order["status"]))
        _require(reason, self._say("reason"))
        order["status"] = "refunded"
        self.refunds[order_id] = self._total(order["items"])
        return {"order_id": order_id, "status": "refunded", "amount": self.refunds[order_id],
                "currency": self._currency()}

    def snapshot(self) -> dict:
        """cart; order_status (every order's status); new_orders (each placed order's items and total, in order);
        refunds (order id -> amount)."""
        return {"cart": dict(self.cart), "order_status": {k: v["status"] for k, v in self.orders.items()},
                "new_orders": [{"items": dict(self.orders[k]["items"]), "total": self._total(self.orders[k]["items"])}
                               for k in self.new_orders],
                "refunds": dict(self.refunds)}

    def _product(self, product_id: str) -> dict:
        if product_id not in self.products:
            raise ValueError(self._say("no_product", id=product_id))
        return self.products[product_id]

    def _order(self, order_id: str) -> dict:
        if order_id not in self.orders:
            raise ValueError(self._say("no_order", id=order_id))
        return self.orders[order_id]

    def _total(self, items: dict[str, int]) -> int:
        return sum(self.products[pid]["price"] * quantity for pid, quantity in items.items())

    def _currency(self) -> str:
        return "KRW" if self.language == "ko" else "USD"

    def _say(self, key: str, **values) -> str:
        return MESSAGES[self.language][key].format(**values)


def _require(text: str, message: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(message)
    return text.strip()
