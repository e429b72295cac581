"""The KB editor over real HTTP as an editor uses it: list and filter, edit with optimistic locking, history with
diffs and rollback, remove and restore, import with the CLI's report, export, Try it, saved tests."""

from __future__ import annotations

import html
import json
import re
import time

from knowledge.entry import FaqEntry
from tests.staff.helpers import csrf_of, hidden, sign_in


def edit_form(client, faq_id: str) -> dict[str, str]:
    page = client.get("/staff/kb/edit", params={"id": faq_id}).text

    def area(name: str) -> str:
        match = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
        return html.unescape(match.group(1)) if match else ""

    return {
        "csrf": hidden(page, "csrf"),
        "id": faq_id,
        "revision": hidden(page, "revision"),
        "questions": area("questions"),
        "answer_zh": area("answer_zh"),
        "answer_en": area("answer_en"),
        "answer": area("answer"),
        "tags": html.unescape(re.search(r'name="tags" id="tags" value="([^"]*)"', page).group(1)),
    }


def test_the_list_filters_by_text_tag_and_missing_language_and_pages(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    everything = runtime.faqs.count()
    page = edna.get("/staff/kb").text
    assert f"of {everything} entries" in page
    shipping = edna.get("/staff/kb", params={"tag": "shipping"}).text
    assert 'data-id="shipping_costs"' in shipping and 'data-id="returns_policy"' not in shipping
    found = edna.get("/staff/kb", params={"q": "物流"}).text  # Chinese text is found too
    assert 'data-id="order_track"' in found
    runtime.faqs.save_many(
        [FaqEntry("english-only", ["Only English?"], answer_en="Yes")],
        author="test",
    )
    missing = edna.get("/staff/kb", params={"missing": "zh"}).text
    assert 'data-id="english-only"' in missing and 'data-id="order_track"' not in missing and "no 中文" in missing
    assert "Page 1 of" in page
    assert edna.get("/staff/kb", params={"missing": "fr"}).status_code == 422


def test_the_list_flags_an_english_answer_written_with_chinese_characters(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    runtime.faqs.save_many(
        [FaqEntry("degree-check", ["How do I verify my degree?"], answer_en="Use 云帆网.", answer_zh="请使用云帆网。")],
        author="test",
    )
    row = re.search(r'<tr class="entry" data-id="degree-check">.*?</tr>', edna.get("/staff/kb").text, re.S).group(0)
    assert 'data-problem="chinese_in_english"' in row and "中文 in EN answer" in row
    clean = re.search(r'<tr class="entry" data-id="order_track">.*?</tr>', edna.get("/staff/kb").text, re.S)
    assert clean is None or "language-problem" not in clean.group(0)


def test_an_edit_is_saved_as_a_new_revision_and_the_bot_answers_with_it(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    form = edit_form(edna, "shipping_costs")
    before = int(form["revision"])
    form["questions"] += "\nIs there a fee for postage to the moon?"
    saved = edna.post("/staff/kb/edit", data={**form, "note": "moon"})
    assert saved.status_code == 200 and f"Saved as revision {before + 1}" in saved.text
    assert runtime.faqs.history("shipping_costs")[-1].author == "staff:edna"
    assert runtime.knowledge.search("Is there a fee for postage to the moon?").top == "shipping_costs"
    tried = edna.get("/staff/kb/try", params={"q": "Is there a fee for postage to the moon?"}).text
    assert 'data-decision="answer"' in tried and 'data-id="shipping_costs"' in tried


def test_bad_entries_are_refused_with_every_reason_and_nothing_saved(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    bad = {"csrf": csrf_of(edna), "id": "has space", "questions": " \n ", "revision": "0", "answer_en": "x" * 4001}
    refused = edna.post("/staff/kb/edit", data=bad)
    assert refused.status_code == 422
    for reason in ("The id must be", "at least one question", "longer than 4000"):
        assert reason in refused.text
    assert runtime.faqs.get("has space") is None
    taken = {"csrf": bad["csrf"], "id": "order_track", "questions": "dup?", "answer_en": "a", "revision": "0"}
    assert "There is already an entry order_track" in edna.post("/staff/kb/edit", data=taken).text


def test_two_editors_saving_one_entry_the_second_gets_a_conflict_and_keeps_their_text(staff_server):
    live, runtime = staff_server
    edna, ada = sign_in(live.url, "edna"), sign_in(live.url, "ada")
    first, second = edit_form(edna, "returns_policy"), edit_form(ada, "returns_policy")
    first["answer_en"] = "Returns within 30 days (edna)."
    second["answer_en"] = "Returns within 14 days (ada)."
    assert edna.post("/staff/kb/edit", data=first).status_code == 200
    conflict = ada.post("/staff/kb/edit", data=second)
    assert conflict.status_code == 409
    assert "edna saved this entry" in conflict.text
    assert "Returns within 14 days (ada)." in conflict.text  # ada's text is still in her form
    assert "Returns within 30 days (edna)." in conflict.text  # beside the live version
    assert runtime.faqs.get("returns_policy").answer_en == "Returns within 30 days (edna)."
    second["revision"] = hidden(conflict.text, "revision")  # after reading the live version she saves again
    assert ada.post("/staff/kb/edit", data=second).status_code == 200
    assert runtime.faqs.get("returns_policy").answer_en == "Returns within 14 days (ada)."


def test_history_diffs_any_two_revisions_and_rolls_back_in_one_click(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    form = edit_form(edna, "shipping_times")
    original = runtime.faqs.get("shipping_times")
    form["answer_en"] = "Two days, always."
    edna.post("/staff/kb/edit", data=form)
    newest = runtime.faqs.revision_of("shipping_times")
    history = edna.get("/staff/kb/history", params={"id": "shipping_times", "a": newest - 1, "b": newest}).text
    assert '<span class="added">+ Two days, always.' in history
    assert f'<span class="removed">- {original.answer_en.splitlines()[0]}'[:60] in history
    rollback = edna.post(
        "/staff/kb/rollback", data={"csrf": csrf_of(edna), "id": "shipping_times", "revision": newest - 1}
    )
    assert rollback.status_code == 303
    assert runtime.faqs.get("shipping_times") == original
    assert runtime.faqs.history("shipping_times")[-1].action == "rollback"


def test_a_removed_entry_leaves_the_bot_and_comes_back_on_restore(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    token = csrf_of(edna)
    assert edna.post("/staff/kb/remove", data={"csrf": token, "id": "shipping_couriers"}).status_code == 303
    assert runtime.faqs.get("shipping_couriers") is None and runtime.knowledge.entry("shipping_couriers") is None
    assert 'data-id="shipping_couriers"' in edna.get("/staff/kb/removed").text
    assert edna.post("/staff/kb/restore", data={"csrf": token, "id": "shipping_couriers"}).status_code == 303
    assert runtime.faqs.get("shipping_couriers") is not None and runtime.knowledge.entry("shipping_couriers")
    assert edna.post("/staff/kb/restore", data={"csrf": token, "id": "shipping_couriers"}).status_code == 409


def test_an_upload_with_bad_rows_reports_each_line_and_imports_nothing_unless_asked(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    token = csrf_of(edna)
    good = {"id": "upload-good", "questions": ["Uploaded?"], "answer_en": "Yes."}
    body = json.dumps(good) + "\n" + "{not json\n" + json.dumps({"id": "no-answer", "questions": ["q"]}) + "\n"
    files = {"file": ("faq.jsonl", body.encode(), "application/x-ndjson")}
    refused = edna.post("/staff/kb/import", data={"csrf": token}, files=files)
    assert refused.status_code == 422
    assert (
        "faq.jsonl:2: bad JSON" in refused.text
        and "faq.jsonl:3: entry &#39;no-answer&#39; has no answer" in refused.text
    )
    assert runtime.faqs.get("upload-good") is None
    kept = edna.post("/staff/kb/import", data={"csrf": token, "skip_bad": "true"}, files=files)
    assert kept.status_code == 200 and "Imported 1 new" in kept.text
    assert runtime.knowledge.entry("upload-good") is not None
    wrong_type = edna.post("/staff/kb/import", data={"csrf": token}, files={"file": ("kb.xlsx", b"PK", "x")})
    assert wrong_type.status_code == 422 and "Unsupported file type" in wrong_type.text
    latin1 = edna.post("/staff/kb/import", data={"csrf": token}, files={"file": ("kb.csv", "é".encode("latin-1"))})
    assert latin1.status_code == 422 and "not UTF-8" in latin1.text


def test_a_long_upload_runs_in_the_background_with_progress_and_goes_live(staff_server):
    live, runtime = staff_server
    jobs = live.app.state.kb_import_jobs
    jobs.small_import = 3  # a long file, without a long test
    try:
        edna = sign_in(live.url, "edna")
        entries = [
            {"id": f"bulk-{i}", "questions": [f"Bulk question number {i}?"], "answer_en": f"Bulk {i}."}
            for i in range(8)
        ]
        body = "\n".join(json.dumps(e) for e in entries).encode()
        files = {"file": ("bulk.jsonl", body, "application/x-ndjson")}
        started = edna.post("/staff/kb/import", data={"csrf": csrf_of(edna)}, files=files)
    finally:
        jobs.small_import = 1000
    assert started.status_code == 303 and started.headers["location"].startswith("/staff/kb/import/")
    job = jobs.get(int(started.headers["location"].rsplit("/", 1)[1]))
    deadline = time.monotonic() + 60
    while job.stage not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)  # the job runs on its own thread
    status = edna.get(started.headers["location"], params={"format": "json"})
    assert status.status_code == 200, status.text
    status = status.json()
    assert status["stage"] == "done" and status["percent"] == 100 and status["created"] == 8
    page = edna.get(started.headers["location"]).text
    assert '<progress id="progress" max="100" value="100">' in page and "Imported 8 new" in page
    assert runtime.knowledge.search("Bulk question number 5?").faq_id == "bulk-5"
    assert sign_in(live.url, "aggie").get(started.headers["location"]).status_code == 403


def test_export_downloads_every_entry_in_the_chosen_format(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    exported = edna.get("/staff/kb/export", params={"format": "jsonl"})
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    assert len(exported.text.splitlines()) == runtime.faqs.count()
    assert edna.get("/staff/kb/export", params={"format": "csv"}).text.startswith("id,question,answer")


def test_saved_tests_run_and_a_save_that_would_break_one_warns_first(staff_server):
    live, runtime = staff_server
    edna = sign_in(live.url, "edna")
    question = "How much does shipping cost?"
    assert runtime.knowledge.search(question).faq_id == "shipping_costs"
    token = csrf_of(edna)
    assert (
        edna.post(
            "/staff/kb/tests", data={"csrf": token, "question": question, "expected": "shipping_costs"}
        ).status_code
        == 303
    )
    run = edna.get("/staff/kb/tests", params={"run": "true"}).text
    assert "1 of 1 passed." in run
    assert 'class="test pass"' in run

    form = edit_form(edna, "shipping_costs")
    form["questions"] = "Which colour is the logo?"  # every way of asking about shipping costs is gone
    revision = runtime.faqs.revision_of("shipping_costs")
    warned = edna.post("/staff/kb/edit", data=form)
    assert warned.status_code == 409 and "would break 1 saved test" in warned.text and question in warned.text
    assert runtime.faqs.revision_of("shipping_costs") == revision  # nothing went live
    forced = edna.post("/staff/kb/edit", data={**form, "force": "true"})
    assert forced.status_code == 200 and runtime.faqs.get("shipping_costs").questions == ["Which colour is the logo?"]
    assert 'class="test fail"' in edna.get("/staff/kb/tests", params={"run": "true"}).text
    unknown = edna.post("/staff/kb/tests", data={"csrf": token, "question": "x", "expected": "no-such-entry"})
    assert unknown.status_code == 422
