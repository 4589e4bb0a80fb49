"""The management API's one table of endpoints: the dashboard's routes and /openapi.json are both made from it,
so the document cannot drift from what is served. Each entry's right comes from its handler's guard."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gensandbox.access import RIGHTS
from gensandbox.ui import api_admin, api_read, api_work, ledger_pages, signin_pages
from gensandbox.ui.guard import public


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: object
    summary: str


ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", "/api/signin", signin_pages.api_signin, "Sign in with a key: a session cookie and its CSRF token"),
    Endpoint("POST", "/api/signout", signin_pages.signout, "End this session"),
    Endpoint("GET", "/api/me", signin_pages.me, "Who this key or session is, its rights and CSRF token"),
    Endpoint("GET", "/api/projects", api_admin.list_projects, "Projects (an admin's: all; others': their own)"),
    Endpoint("POST", "/api/projects", api_admin.create_project, "Create a project (on the ledger)"),
    Endpoint("PATCH", "/api/projects/{project_id}", api_admin.change_project,
             "Change a project's privacy, regulators' access or models (on the ledger)"),
    Endpoint("GET", "/api/keys", api_admin.list_keys, "Keys, never their secrets"),
    Endpoint("POST", "/api/keys", api_admin.create_key, "Create a key; its secret is in this answer only"),
    Endpoint("PATCH", "/api/keys/{key_id}", api_admin.change_key, "Change a key's role, budget, rate or label"),
    Endpoint("DELETE", "/api/keys/{key_id}", api_admin.revoke_key, "Revoke a key (its sessions end)"),
    Endpoint("GET", "/api/models", api_admin.list_models, "The models the caller's project may use"),
    Endpoint("POST", "/api/models", api_admin.register,
             "Register a model endpoint (checked: no internal address unless allowed, never link-local)"),
    Endpoint("DELETE", "/api/models/{name}", api_admin.unregister, "Remove a registered model"),
    Endpoint("POST", "/api/variants", api_admin.register_variant,
             "Install a variant (a `gensandbox variant export` file) on one of the project's models"),
    Endpoint("GET", "/api/runs", api_read.list_runs, "The project's evaluations"),
    Endpoint("POST", "/api/suites", api_work.upload_suite,
             "Upload a suite file (multipart `file`: JSONL, CSV or YAML, at most 5 MB); checked as the CLI checks it"),
    Endpoint("POST", "/api/estimate", api_work.estimate_run, "The most a run of these models and suites can cost"),
    Endpoint("POST", "/api/runs", api_work.start_run, "Start an evaluation (models, suites, cost cap, limit)"),
    Endpoint("GET", "/api/runs/{run_id}/progress", api_work.run_progress, "A run's live progress"),
    Endpoint("POST", "/api/runs/{run_id}/cancel", api_work.cancel_run,
             "Cancel a run started here (finished items are kept; resumable)"),
    Endpoint("GET", "/api/runs/{run_id}", api_read.run_results, "An evaluation's results per model and suite"),
    Endpoint("GET", "/api/runs/{run_id}/samples", api_read.run_samples,
             "An evaluation's prompts, answers and scores (?offset=&limit=)"),
    Endpoint("GET", "/api/audits", api_read.list_audits, "The project's audits"),
    Endpoint("POST", "/api/audits", api_work.start_audit,
             "Start a switching-cost or self-preference audit on the project's models; a job to poll"),
    Endpoint("GET", "/api/audits/jobs/{job_id}", api_work.audit_job, "An audit job's progress, and its audit id"),
    Endpoint("GET", "/api/audits/{audit_id}", api_read.audit_result, "One audit's findings and method"),
    Endpoint("GET", "/api/traffic", api_read.traffic, "Gateway traffic per key and model (?since=)"),
    Endpoint("POST", "/api/ledger/verify", ledger_pages.start_verification, "Start checking the whole ledger"),
    Endpoint("GET", "/api/ledger/verify/{job_id}", ledger_pages.verification_status,
             "A verification's progress and verdict"),
    Endpoint("GET", "/api/traces/{session}", api_read.trace, "A session's steps the caller may see"),
]


def api_routes() -> list[Route]:
    return [Route(e.path, e.handler, methods=[e.method]) for e in ENDPOINTS] + [
        Route("/openapi.json", openapi, methods=["GET"])]


@public
async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


def openapi_document() -> dict:
    paths: dict[str, dict] = {}
    for endpoint in ENDPOINTS:
        action = getattr(endpoint.handler, "action", None)
        who = ("anyone" if action == "public" else "any signed-in key" if action is None
               else ", ".join(role for role in ("admin", "developer", "tester", "regulator")
                              if role in RIGHTS[action]))
        operation = {
            "summary": endpoint.summary,
            "description": f"Who may call it: {who}." + ("" if action in (None, "public") else f" Right: `{action}`."),
            "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                           for name in re.findall(r"{(\w+)}", endpoint.path)],
            "responses": {"200": {"description": "OK"}, "401": {"description": "No key or session"},
                          "403": {"description": "The role may not, or the CSRF token is missing"},
                          "404": {"description": "Not found in the caller's project"}},
        }
        if action != "public":
            operation["security"] = [{"bearer": []}, {"session": [], "csrf": []}]
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "GenSandbox management API", "version": "1"},
        "paths": paths,
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "A key made by an admin (gsk_…)"},
            "session": {"type": "apiKey", "in": "cookie", "name": "gensandbox_session"},
            "csrf": {"type": "apiKey", "in": "header", "name": "x-csrf-token",
                     "description": "The session's CSRF token (from /api/signin or /api/me), on every change"},
        }},
    }
