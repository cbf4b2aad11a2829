"""The console in a real browser (Debian's Chromium through Playwright): every page for every role
that may see it, with no console errors and no failed requests; the approval flow by keyboard;
separation of duties as the service states it; markup in names rendered inert.

Screenshots of each page go to $GOVLEDGER_UI_SCREENSHOTS when set (`make ui-screenshots` sets it
to docs/ui), else to the test's temporary directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import Console

pytestmark = pytest.mark.slow

VIEWPORT = {"width": 1280, "height": 900}
PAGES = {
    "inventory": ("/ui/", ("admin", "producer", "ci", "approver", "auditor")),
    "model": ("/ui/models/income-mitigated/1", ("admin", "producer", "ci", "approver", "auditor")),
    "approvals": ("/ui/approvals", ("admin", "approver")),
    "decisions": ("/ui/decisions?model=income-mitigated", ("admin", "approver", "auditor")),
    "policies": ("/ui/policies", ("admin", "producer", "ci", "approver", "auditor")),
    "ledger": ("/ui/ledger", ("admin", "producer", "ci", "approver", "auditor")),
}


class Watched:
    """A browser page that records console errors, failed requests and dialogs."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # a request cancelled by the next navigation (net::ERR_ABORTED) is not a failure of the page;
        # an answer with an error status is reported as a console error above
        page.on(
            "requestfailed",
            lambda r: (
                None
                if r.failure == "net::ERR_ABORTED"
                else self.problems.append(f"request failed: {r.url} ({r.failure})")
            ),
        )
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("GOVLEDGER_UI_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def open_as(browser: Any, console: Console) -> Iterator[Any]:
    contexts: list[Any] = []

    def signed_in(role: str) -> Watched:
        context = browser.new_context(viewport=VIEWPORT, base_url=console.base_url)
        contexts.append(context)
        watched = Watched(context.new_page())
        watched.page.goto("/ui/sign-in")
        watched.page.fill("#api_key", console.tokens[role])
        watched.page.click("button[type=submit]")
        watched.page.wait_for_url("**/ui/")
        return watched

    yield signed_in
    for context in contexts:
        context.close()


def test_every_page_loads_for_every_role_that_may_see_it(open_as: Any, shots: Path) -> None:
    for role in ("admin", "producer", "ci", "approver", "auditor"):
        watched = open_as(role)
        for name, (path, roles) in PAGES.items():
            watched.problems.clear()
            answer = watched.page.goto(path, wait_until="networkidle")
            if role in roles:
                assert answer.status == 200, (role, path)
                assert watched.problems == [], (role, path, watched.problems)
                assert watched.page.locator("h1").count() == 1
                if role == "approver" or (role == "auditor" and name == "decisions"):
                    watched.page.screenshot(path=shots / f"{name}.png", full_page=False)
            else:
                assert answer.status == 403, (role, path)
                assert f'href="{path.split("?")[0]}"' not in watched.page.content().split("<main")[0]


def test_an_approver_approves_by_keyboard_and_promotes(open_as: Any, console: Console, shots: Path) -> None:
    watched = open_as("approver")
    page = watched.page
    page.goto("/ui/approvals")
    assert "income-mitigated@2" in page.content()
    page.click("text=income-mitigated@2")
    page.wait_for_url("**/ui/models/income-mitigated/2*")
    page.screenshot(path=shots / "model-before-approval.png", full_page=True)
    for _ in range(300):  # keyboard only: Tab to the decision radios
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.name") == "decision":
            break
    else:
        pytest.fail("the approval form cannot be reached with the Tab key")
    page.keyboard.press("Space")  # the first radio: approve
    page.keyboard.press("Tab")  # capacity (prefilled)
    page.keyboard.press("Tab")
    page.keyboard.type("Passed the four-fifths policy; reviewed the evaluation.")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "You approved income-mitigated@2" in page.content()
    page.select_option("#stage-to", "production")
    page.fill("#promote-reason", "approved by the risk office")
    with page.expect_navigation():
        page.click("#promote button[type=submit]")
    assert "promoted to production" in page.content()
    page.screenshot(path=shots / "model-promoted.png", full_page=False)
    assert watched.problems == []
    kinds = [
        (e.kind, e.actor.name)
        for e in (console.ledger.get(s) for s in range(console.ledger.size - 2, console.ledger.size))
    ]
    assert kinds == [("approval.recorded", "rui (risk officer)"), ("model.promoted", "rui (risk officer)")]


def test_separation_of_duties_is_shown_as_the_service_states_it(open_as: Any, console: Console) -> None:
    watched = open_as("admin")  # the admin recorded every training run
    page = watched.page
    page.goto("/ui/models/income-baseline/1")
    size = console.ledger.size
    page.check("input[name=decision][value=reject]")
    page.fill("#reason", "trying to review my own model")
    with page.expect_navigation():
        page.click("#approve button[type=submit]")
    assert "separation of duties" in page.content()
    assert console.ledger.size == size


def test_a_refused_promotion_is_shown_and_recorded(open_as: Any, console: Console) -> None:
    watched = open_as("approver")
    page = watched.page
    page.goto("/ui/models/income-baseline/1")
    page.select_option("#stage-to", "production")
    size = console.ledger.size
    with page.expect_navigation():
        page.click("#promote button[type=submit]")
    text = page.content()
    assert "refused" in text.lower() or "blocked" in text.lower()
    assert console.ledger.size == size + 1 and console.ledger.get(size).kind == "promotion.refused"
    assert f"#{size}" in text


def test_markup_in_names_runs_no_script(open_as: Any) -> None:
    watched = open_as("auditor")
    for path in ("/ui/", "/ui/decisions?model=income-mitigated", "/ui/ledger"):
        watched.page.goto(path)
    assert watched.dialogs == []
    assert "<script>alert(1)</script>" in watched.page.inner_text("header")


def test_an_auditor_finds_a_decision_by_subject(open_as: Any, console: Console, shots: Path) -> None:
    watched = open_as("auditor")
    page = watched.page
    page.goto("/ui/decisions")
    page.fill("#subject", console.subject_ref)
    with page.expect_navigation():
        page.click("form[role=search] button[type=submit]")
    page.click(f"text={console.decision_id}")
    page.wait_for_url(f"**/ui/decisions/{console.decision_id}")
    assert "Trace" in page.content() and "training run" in page.content().lower()
    page.screenshot(path=shots / "decision.png", full_page=False)
    assert watched.problems == []


def _verifier_key(console: Console) -> str:
    return str(console.ledger.key_ring().records[-1].verifier.vkey)


def test_the_verifier_module_passes_known_answer_tests_in_the_browser(open_as: Any, console: Console) -> None:
    """SHA-256 (FIPS 180-2 "abc"), Ed25519 (RFC 8032 test 1) and RFC 9162 inclusion proofs of a
    7-leaf tree computed by the ledger's own Merkle code, checked by verifier.js in Chromium."""
    from ledger.log import merkle

    leaves = [merkle.leaf_hash(f"leaf {i}".encode()) for i in range(7)]
    root = merkle.root_hash(leaves)
    proofs = [[h.hex() for h in merkle.inclusion_proof(leaves, i)] for i in range(7)]
    page = open_as("auditor").page
    result = page.evaluate(
        """async ([leaves, root, proofs]) => {
          const v = await import('/ui/static/verifier.js');
          const out = {};
          out.abc = v.bytesToHex(await v.sha256(new TextEncoder().encode('abc')));
          const pub = v.hexToBytes('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
          const sig = v.hexToBytes('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155'
                                 + '5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');
          out.ed_ok = await v.ed25519Verify(pub, new Uint8Array(0), sig);
          sig[0] ^= 1;
          out.ed_bad = await v.ed25519Verify(pub, new Uint8Array(0), sig);
          out.roots = [];
          for (let i = 0; i < 7; i++) {
            const r = await v.rootFromInclusionProof(v.hexToBytes(leaves[i]), i, 7, proofs[i].map(v.hexToBytes));
            out.roots.push(v.bytesToHex(r));
          }
          const wrong = await v.rootFromInclusionProof(v.hexToBytes(leaves[1]), 2, 7, proofs[2].map(v.hexToBytes));
          out.wrong = v.bytesToHex(wrong);
          return out;
        }""",
        [[h.hex() for h in leaves], root.hex(), proofs],
    )
    assert result["abc"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert result["ed_ok"] is True and result["ed_bad"] is False
    assert result["roots"] == [root.hex()] * 7
    assert result["wrong"] != root.hex()


def _verify_in_page(page: Any, key: str) -> str:
    page.fill("#verifier-key", key)
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector("#verify-headline")
    return str(page.inner_text("#verify-headline"))


def test_an_auditor_verifies_a_decision_in_the_browser(open_as: Any, console: Console, shots: Path) -> None:
    watched = open_as("auditor")
    page = watched.page
    page.goto(f"/ui/decisions/{console.decision_id}")
    headline = _verify_in_page(page, _verifier_key(console))
    assert headline.startswith("✔ Verified"), headline
    page.screenshot(path=shots / "decision-verified.png", full_page=True)
    assert watched.problems == []


def test_one_changed_byte_of_a_proof_is_named(open_as: Any, console: Console) -> None:
    import json

    page = open_as("auditor").page

    def tamper(route: Any) -> None:
        answer = route.fetch()
        pack = json.loads(answer.body())
        item = pack["entries"][1]
        first = item["path"][0]
        item["path"][0] = ("0" if first[0] != "0" else "1") + first[1:]
        route.fulfill(response=answer, body=json.dumps(pack))

    page.route("**/pack", tamper)
    page.goto(f"/ui/decisions/{console.decision_id}")
    headline = _verify_in_page(page, _verifier_key(console))
    assert headline.startswith("✖ Not verified: entry "), headline
    assert "another root" in headline


def test_the_wrong_pinned_key_does_not_verify(open_as: Any, console: Console) -> None:
    from ledger.log.note import generate_signer

    page = open_as("auditor").page
    page.goto(f"/ui/decisions/{console.decision_id}")
    origin = console.ledger.key_ring().origin
    other = generate_signer(origin).verifier.vkey  # same name, another key
    headline = _verify_in_page(page, other)
    assert headline.startswith("✖ Not verified: checkpoint signature"), headline


def test_a_risk_officer_previews_and_issues_the_dossier(open_as: Any, console: Console) -> None:
    watched = open_as("approver")
    page = watched.page
    page.goto("/ui/models/income-mitigated/1")
    with page.context.expect_page() as opened:
        page.click("text=Preview the compliance dossier")
    preview = opened.value
    preview.wait_for_load_state()
    assert "compliance dossier" in preview.content().lower()
    size = console.ledger.size
    with page.expect_download() as download:
        page.click("#issue-dossier button[type=submit]")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    issued = console.ledger.get(console.ledger.size - 1)
    assert issued.kind == "report.issued" and issued.actor.name == "rui (risk officer)"
    assert console.ledger.size > size
    import hashlib

    assert issued.data["pdf_sha256"] == hashlib.sha256(pdf).hexdigest()
    page.goto("/ui/models/income-mitigated/1")
    assert issued.data["pdf_sha256"] in page.content()
    assert watched.problems == []


def test_an_auditor_may_preview_but_not_issue(open_as: Any, console: Console) -> None:
    page = open_as("auditor").page
    page.goto("/ui/models/income-mitigated/1")
    assert page.locator("#issue-dossier").count() == 0
    assert page.locator("text=Preview the compliance dossier").count() == 1
