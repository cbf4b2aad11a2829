"""The console over HTTP (no browser): sessions, CSRF, headers, roles, and escaping."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.console.conftest import Console

pytestmark = pytest.mark.slow


def signed_in(console: Console, role: str) -> httpx.Client:
    client = httpx.Client(base_url=console.base_url, follow_redirects=False)
    answer = client.post("/ui/sign-in", data={"api_key": console.tokens[role], "next": "/ui/"})
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', client.get(path).text)
    assert found is not None
    return found.group(1)


def test_pages_need_a_session_and_redirect_to_sign_in(console: Console) -> None:
    with httpx.Client(base_url=console.base_url) as client:
        for path in (
            "/ui/",
            "/ui/approvals",
            "/ui/decisions",
            "/ui/ledger",
            "/ui/policies",
            "/ui/models/income-mitigated/1",
        ):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/ui/sign-in?next="), path


def test_a_wrong_key_is_refused_and_sets_no_cookie(console: Console) -> None:
    with httpx.Client(base_url=console.base_url) as client:
        answer = client.post("/ui/sign-in", data={"api_key": "glk_0000000000000000_" + "A" * 43})
        assert answer.status_code == 401 and "not valid" in answer.text
        assert "set-cookie" not in answer.headers


def test_the_session_cookie_is_httponly_strict_and_holds_no_key(console: Console) -> None:
    with httpx.Client(base_url=console.base_url) as client:
        answer = client.post("/ui/sign-in", data={"api_key": console.tokens["auditor"]})
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Path=/ui" in cookie
        assert console.tokens["auditor"] not in cookie and console.tokens["auditor"].split("_")[2] not in cookie


def test_every_page_carries_the_security_headers(console: Console) -> None:
    client = signed_in(console, "approver")
    for path in ("/ui/", "/ui/sign-in", "/ui/models/income-mitigated/1", "/ui/nope"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"


def test_roles_see_only_what_they_may_do(console: Console) -> None:
    auditor = signed_in(console, "auditor")
    assert auditor.get("/ui/approvals").status_code == 403
    page = auditor.get("/ui/models/income-mitigated/2").text
    assert 'action="/ui/models/income-mitigated/2/approval"' not in page and "/promotion" not in page
    assert auditor.get(f"/ui/decisions/{console.decision_id}").status_code == 200
    producer = signed_in(console, "producer")
    assert producer.get("/ui/decisions").status_code == 403
    assert "/ui/approvals" not in producer.get("/ui/").text
    approver = signed_in(console, "approver")
    assert 'action="/ui/models/income-mitigated/2/approval"' in approver.get("/ui/models/income-mitigated/2").text


def test_a_forged_post_by_a_role_that_may_not_write_is_refused_and_writes_nothing(console: Console) -> None:
    auditor = signed_in(console, "auditor")
    size = console.ledger.size
    token = csrf_of(auditor, "/ui/")
    answer = auditor.post(
        "/ui/models/income-mitigated/2/approval",
        data={"csrf": token, "decision": "approve", "reason": "forged", "capacity": "x"},
    )
    assert answer.status_code == 403
    answer = auditor.post("/ui/models/income-mitigated/2/promotion", data={"csrf": token, "stage": "staging"})
    assert answer.status_code == 403
    assert console.ledger.size == size


@pytest.mark.parametrize("csrf", [None, "", "0" * 64])
def test_a_missing_or_wrong_csrf_token_is_refused_and_writes_nothing(console: Console, csrf: str | None) -> None:
    approver = signed_in(console, "approver")
    size = console.ledger.size
    data = {"decision": "approve", "reason": "looks fine", "capacity": "risk officer"}
    if csrf is not None:
        data["csrf"] = csrf
    answer = approver.post("/ui/models/income-mitigated/2/approval", data=data)
    assert answer.status_code == 403 and "CSRF" in answer.text
    assert console.ledger.size == size


def test_a_post_from_another_origin_is_refused(console: Console) -> None:
    approver = signed_in(console, "approver")
    token = csrf_of(approver, "/ui/")
    answer = approver.post(
        "/ui/models/income-mitigated/2/approval",
        data={"csrf": token, "decision": "approve", "reason": "x", "capacity": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403


def test_sign_out_ends_the_session_on_the_server(console: Console) -> None:
    client = signed_in(console, "auditor")
    cookie = client.cookies.get("govledger_session")
    assert client.get("/ui/").status_code == 200
    assert client.post("/ui/sign-out", data={"csrf": csrf_of(client, "/ui/")}).status_code == 303
    replay = httpx.Client(base_url=console.base_url, cookies={"govledger_session": cookie or ""})
    assert replay.get("/ui/", follow_redirects=False).status_code == 303


def test_names_with_markup_render_inert(console: Console) -> None:
    auditor = signed_in(console, "auditor")
    page = auditor.get("/ui/").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_sign_in_page_never_redirects_off_site(console: Console) -> None:
    with httpx.Client(base_url=console.base_url) as client:
        answer = client.post("/ui/sign-in", data={"api_key": console.tokens["auditor"], "next": "//evil.example/x"})
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/"


def test_a_report_preview_runs_no_script_and_an_auditor_cannot_issue(console: Console) -> None:
    auditor = signed_in(console, "auditor")
    preview = auditor.get("/ui/models/income-mitigated/1/reports/dossier")
    assert preview.status_code == 200
    csp = preview.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp
    size = console.ledger.size
    answer = auditor.post("/ui/models/income-mitigated/1/reports/dossier", data={"csrf": csrf_of(auditor, "/ui/")})
    assert answer.status_code == 403 and console.ledger.size == size
    assert auditor.get("/ui/models/income-mitigated/1/reports/nonsense").status_code == 404
    assert auditor.get("/ui/models/income-mitigated/1/reports/bias-audit").status_code == 422


def test_the_policy_page_lists_the_evaluations_run_under_each_policy(console: Console) -> None:
    page = signed_in(console, "auditor").get("/ui/policies").text
    assert "Evaluations under this policy (3)" in page
    assert "income-baseline@1" in page and "blocked" in page
