"""The example workflows of flows/examples run green, and write exactly what they should.

Expected values are worked out by hand from flows/examples/data:
  orders.json  1 Ada Lovelace eu   2 x 9.5              = 19      paid
               2 Bob Marley   us   1 x 120 + 3 x 4      = 132     paid
               3 Cy Twombly   eu   1 x 9.5              = 9.5     refunded
               4 Di Fossey    apac 5 x 12.25            = 61.25   paid
  customers.csv  Ada gold, Bob silver, Cy bronze;  settings.yaml  EUR, gold threshold 100.
HTTP answers come from example_world.FakeApi (respx in-process, a loopback server for the CLI).
"""

from __future__ import annotations

import json

import pytest
from example_world import AI_KEY, EXAMPLES, GOOD_SUMMARY, USERS_TOKEN, completion, json_file

from flowscript.compiler.loader import load_workflow

ORDERS = json.loads((EXAMPLES / "data" / "orders.json").read_text(encoding="utf-8"))
TOTALS = {1: 19, 2: 132, 3: 9.5, 4: 61.25}


def test_every_example_has_a_test():
    tested = {name.removeprefix("test_").split("__")[0].replace("_", "-")
              for name in globals() if name.startswith("test_")}
    assert {p.name.removesuffix(".flow.md") for p in EXAMPLES.glob("*.flow.md")} <= tested


# ------------------------------------------------------------------ files only
@pytest.mark.parametrize(("config", "totals", "report"), [
    ({}, [{"id": 1, "customer": "Ada Lovelace", "total": 19, "rank": 1, "last": False},
          {"id": 2, "customer": "Bob Marley", "total": 132, "rank": 2, "last": False},
          {"id": 4, "customer": "Di Fossey", "total": 61.25, "rank": 3, "last": True}],
     "Paid orders: 3 order(s), 212.25 in all; largest Bob Marley"),
    ({"min_total": 50, "title": "Big ones"},
     [{"id": 2, "customer": "Bob Marley", "total": 132, "rank": 1, "last": False},
      {"id": 4, "customer": "Di Fossey", "total": 61.25, "rank": 2, "last": True}],
     "Big ones: 2 order(s), 193.25 in all; largest Bob Marley"),
    ({"min_total": 1000}, [], "Paid orders: 0 order(s), 0 in all; largest "),
], ids=["defaults", "min-total-50", "nothing-passes"])
async def test_order_report(examples, config, totals, report):
    outcome = await examples.run("order-report", config=config)
    assert outcome.status == "completed", outcome.failure
    assert outcome.written() == ["report.txt", "totals.json"]
    assert outcome.text("out/totals.json") == json_file(totals)
    assert outcome.text("out/report.txt") == report
    assert [o["id"] for o in outcome.output("paid")] == [t["id"] for t in totals]  # filter keeps whole orders
    assert outcome.output("paid") == [o for o in ORDERS if o["id"] in {t["id"] for t in totals}]
    assert outcome.output("save-report") == {"path": "out/report.txt", "bytes": len(report.encode())}


@pytest.mark.parametrize(("threshold", "day", "ran", "skipped"), [
    (None, "big day: 221.75", "celebrate", "shrug"),
    (300, "quiet day: 221.75", "shrug", "celebrate"),
])
async def test_conditional_routing(examples, threshold, day, ran, skipped):
    outcome = await examples.run("conditional-routing", config={} if threshold is None else {"threshold": threshold})
    assert outcome.status == "completed", outcome.failure
    assert outcome.output("grand-total") == [19, 132, 9.5, 61.25]
    assert outcome.text("out/day.txt") == day
    assert outcome.output("big-day") == outcome.output(ran) == day
    assert outcome.result(skipped).status == "skipped"
    # an if whose condition is false and that has no else passes its input through
    assert outcome.result("never").status == "skipped"
    assert outcome.output("no-else") == [19, 132, 9.5, 61.25]
    assert outcome.text("out/passthrough.json") == json_file([19, 132, 9.5, 61.25])


@pytest.mark.parametrize(("config", "bronze"), [({}, "bronze"), ({"fallback_tier": "tin"}, "tin")])
async def test_customer_tiers(examples, config, bronze):
    outcome = await examples.run("customer-tiers", config=config)
    assert outcome.status == "completed", outcome.failure
    tiers = ["0: Ada Lovelace gets priority support (over 100 EUR)",
             "1: Bob Marley gets a discount",
             f"2: Cy Twombly stays {bronze}"]
    assert outcome.text("out/tiers.json") == json_file(tiers)
    assert outcome.output("classify") == tiers
    assert outcome.output("customers")[1] == {"id": "2", "name": "Bob Marley", "email": "bob@example.org",
                                              "tier": "silver"}  # CSV cells stay strings
    assert outcome.output("settings")["thresholds"] == {"gold": 100, "silver": 20}
    # each iteration's body results are kept, and only the first matching case ran
    assert outcome.result("classify[0].gold").status == "success"
    assert outcome.result("classify[1].silver").output == tiers[1]
    assert [outcome.result(f"classify[1].{case}").status for case in ("gold", "other")] == ["skipped", "skipped"]
    assert outcome.result("classify[2].route").output == tiers[2]


@pytest.mark.parametrize("greeting", [None, "Bonjour"])
async def test_nightly_digest(examples, greeting):
    loaded = load_workflow(examples.path("nightly-digest"))
    assert loaded.workflow.meta.trigger.type == "schedule"
    assert [list(w.node_ids) for w in loaded.plan.waves] == [["orders", "customer-rows"], ["digest"], ["save"]]
    outcome = await examples.run("nightly-digest", config={} if greeting is None else {"greeting": greeting})
    assert outcome.status == "completed", outcome.failure
    digest = f"{greeting or 'Good morning'}: 4 orders from 3 customers, first Ada Lovelace"
    assert outcome.text("out/digest.txt") == digest
    assert outcome.output("digest") == digest
    assert outcome.written() == ["digest.txt"]


async def test_parallel_merge(examples):
    outcome = await examples.run("parallel-merge")
    assert outcome.status == "completed", outcome.failure
    # merge="object": the branches' objects merged, later wins
    assert outcome.output("count-obj") == {"count": 4}
    assert outcome.output("regions-obj") == {"regions": ["eu", "us", "apac"], "branch": 1}
    assert outcome.text("out/stats.json") == json_file({"count": 4, "regions": ["eu", "us", "apac"], "branch": 1})
    # merge="concat": the lists flattened one level, in branch order
    assert outcome.output("eu-only") == [1, 3] and outcome.output("other-only") == [2, 4]
    assert outcome.text("out/ids.json") == json_file([1, 3, 2, 4])
    # a merge expression over $branches: 4 orders; 10 per line item, 5 line items
    assert outcome.output("size-b") == [10, 20, 10, 10]
    assert outcome.text("out/sizes.json") == json_file({"smallest": 4, "largest": 50, "all": [4, 50]})
    # wait="any" with the default merge (array): the one branch that answered
    assert outcome.text("out/first.json") == json_file(["answer from branch 0"])


# ------------------------------------------------------------------ expressions
def _syntax(index: int, order: dict) -> dict:
    items = order["items"]
    return {
        "id": order["id"],
        "literals": [1, 2.5, 1000, "it's", "tab\there", True, None, None],
        "quoted key": index,
        "shorthand": [{"region": order["region"], "id": order["id"]}],
        "on_literal": order["region"],
        "hyphenated": 4,
        "member": items[0]["sku"],
        "missing": None,
        "optional": "none",
        "negative": None,
        "len": len(order["customer"]),
        "unary": [False, -order["id"], 4],
        "arith": [512, 1, 3.5, 7, 9, "n1"],
        "compare": [True, True, False, True, True, False, True, True, True],
        "logic": ["default", "both", "fallback", "quiet"],
        "arrows": [f"{i}:{line['sku']}" for i, line in enumerate(items)],
        "total": TOTALS[order["id"]],
        "first": index == 0,
        "last": index == 3,
        "of": 4,
    }


FUNCTIONS = {
    "strings": ["A", "b", "x", "a.b.c", ["a", "b"], "a+b", "ab...", True, True, True, "bc", "007", "7..", "abab",
                "c", 5],
    "arrays": [2, 1, 2, [2, 3], [1, 2, [3]], ["beta", "alpha"], [2, 1], True, 1, ["alpha", "beta", "beta"], 4,
               [1, 2], 2, 3, [1, 2], [3], [0, 2, 4], [1, 2], True, True, 2, [1, 3], 1, ["eu", "us", "apac"], 10],
    "math": [1, 9, 3, 1.5, 2.35, 1, 2, 2, 256, 9, True, 5, 10, -1, -1, 4, 33.3],
    "types": ["array", True, True, True, True, True, True, True, "12", 3.5, True, [1], 2, "d", "y", True, True, True,
              True, True],
    "objects": [["a"], [1], [["a", 1]], {"b": 2}, 3, True, {"a": 1, "b": 2}, {"a": 1}, {"b": 2}, 2, {"x": {"y": 1}},
                {"b": 2}, True, {"a": 1}],
    "time": ["2024-03-05 07:08:09", "2024-02-29T00:00:00.000Z", "2023-12-31T00:00:00.000Z", 24, 2000,
             "1970-01-01T00:00:00.000Z", "2024-05-01T00:00:00.000Z", "2024-05-17T23:59:59.999Z", 5, True, False,
             "2024-02-29T00:00:00.000Z", True, True, True, True],
    "utility": ['{"a":[1,2]}', {"b": 1}, "aGk=", "hi", "a%20b%26c", "a b", 36, ["order-42", "42"], True,
                [["1"], ["2"]], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", '{\n  "a": 1\n}'],
}


async def test_expression_tour(examples):
    outcome = await examples.run("expression-tour")
    assert outcome.status == "completed", outcome.failure
    assert outcome.written() == ["functions.json", "lone-3.json", "raw.txt", "syntax.json"]
    assert outcome.text("out/syntax.json") == json_file([_syntax(i, o) for i, o in enumerate(ORDERS)])
    # a template transform's output is a string: the object is printed as compact JSON, written as text
    functions = outcome.output("functions")
    assert isinstance(functions, str) and json.loads(functions) == FUNCTIONS
    assert outcome.text("out/functions.json") == json.dumps(FUNCTIONS, separators=(",", ":"), ensure_ascii=False)
    assert outcome.text("out/raw.txt") == '{"max":3}'
    assert outcome.text("out/lone-3.json") == json_file(ORDERS)  # templated path, the source's data as-is


async def test_expression_tour__config(examples):
    outcome = await examples.run("expression-tour", config={"verbose": True, "limits": {"max": 7},
                                                            "tags": ["b", "a", "b", "c"]})
    assert outcome.status == "completed", outcome.failure
    assert outcome.written() == ["functions.json", "lone-7.json", "raw.txt", "syntax.json"]
    assert [row["logic"][3] for row in outcome.output("syntax")] == ["loud"] * 4
    arrays = json.loads(outcome.output("functions"))["arrays"]
    assert arrays[5] == ["b", "a", "c"] and arrays[9] == ["a", "b", "b", "c"]  # unique, sort of $config.tags
    assert outcome.text("out/raw.txt") == '{"max":7}'


# ------------------------------------------------------------------ HTTP
async def test_fetch_users(examples, api):
    outcome = await examples.run("fetch-users", secrets={"USERS_API_TOKEN": USERS_TOKEN})
    assert outcome.status == "completed", outcome.failure
    # page_size 2 -> Ada (active) and Bob (inactive); the extract keeps the active users' name and email
    assert outcome.output("user-list") == [{"name": "Ada", "email": "ada@example.org"}]
    assert outcome.output("names") == ["ADA"]
    assert outcome.text("out/users.txt") == "1 active: ADA"
    [request] = api.requests
    assert (request.method, request.path, request.query) == ("GET", "/users", {"limit": "2"})
    assert request.headers["authorization"] == f"Bearer {USERS_TOKEN}"
    assert request.headers["accept"] == "application/json" and request.headers["x-client"] == "flowscript"
    assert USERS_TOKEN not in outcome.state_file_text()


def test_fetch_users__cli(examples, loopback):
    """Through the real CLI: config from -c, the secret from the environment, a real HTTP server."""
    done = examples.cli("fetch-users", "-c", f"base_url={loopback.base_url}", "-c", "page_size=3",
                        "--no-log", "--format", "json", env={"USERS_API_TOKEN": USERS_TOKEN})
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "completed"
    assert (examples.folder / "out" / "users.txt").read_text() == "2 active: ADA, CY"  # Ada, Bob, Cy; Bob inactive
    state = json.loads((examples.folder / report["stateFile"]).read_text())
    assert state["nodeResults"]["names"]["output"] == ["ADA", "CY"]
    assert USERS_TOKEN not in json.dumps(state)
    [request] = loopback.api.requests
    assert request.query == {"limit": "3"} and request.headers["authorization"] == f"Bearer {USERS_TOKEN}"
    assert "Execution Log" not in examples.path("fetch-users").read_text()  # --no-log


async def test_enrich_foreach(examples, api):
    outcome = await examples.run("enrich-foreach")
    assert outcome.status == "completed", outcome.failure
    # local = order total x the region's rate (eu 1, us 0.5, apac 2)
    enriched = [{"id": 1, "local": 19}, {"id": 2, "local": 66}, {"id": 3, "local": 9.5}, {"id": 4, "local": 122.5}]
    assert outcome.text("out/enriched.json") == json_file(enriched)
    assert sorted(r.path for r in api.calls_under("/rates/")) == ["/rates/apac", "/rates/eu", "/rates/eu", "/rates/us"]
    assert outcome.result("enrich[1].rate").output == {"region": "us", "rate": 0.5}
    # the sequential foreach stops at order 3 (refunded): two labels
    assert outcome.text("out/labels.json") == json_file(["#0 Ada Lovelace", "#1 Bob Marley"])
    assert "until-refund[2].label" not in outcome.state.node_results


async def test_polling_loops(examples, api):
    outcome = await examples.run("polling-loops")
    assert outcome.status == "completed", outcome.failure
    # loop + break expression: 3, 2, 1, 0 -> stops at 0; a number is written as text
    assert [outcome.output(f"countdown[{i}].step") for i in range(4)] == [3, 2, 1, 0]
    assert "countdown[4].step" not in outcome.state.node_results
    assert outcome.text("out/countdown.json") == "0"
    # loop + <break/>: pages 0, 1, 2; page 2 has no next page
    assert [r.path for r in api.calls_under("/pages/")] == ["/pages/0", "/pages/1", "/pages/2"]
    assert outcome.text("out/last-page.json") == json_file({"page": 2, "items": [20, 21], "next": False})
    # while: polls until the job is done (third poll)
    assert len(api.calls("/job")) == 3
    assert outcome.output("job") == {"state": "done", "polls": 3}
    assert outcome.text("out/job.txt") == "job done after 3 polls"


async def test_post_results(examples, api):
    outcome = await examples.run("post-results")
    assert outcome.status == "completed", outcome.failure
    [request] = api.requests
    assert (request.method, request.path) == ("PUT", "/orders/batch")
    assert request.headers["content-type"] == "application/json"
    assert request.body == [{"id": 1, "status": "paid"}, {"id": 2, "status": "paid"},
                            {"id": 3, "status": "refunded"}, {"id": 4, "status": "paid"}]
    publish = outcome.output("publish")
    assert (publish["status"], publish["statusText"]) == (201, "Created")
    assert outcome.text("out/receipt.txt") == "201 Created for 4 orders"


async def test_resilient_fetch(examples, api):
    outcome = await examples.run("resilient-fetch")
    assert outcome.status == "completed", outcome.failure
    # /rates answers 500: one attempt + 2 retries, then the fallback runs with $primaryError
    assert len(api.calls("/rates")) == 3
    rates = outcome.result("rates")
    assert rates.status == "success" and rates.fell_back_to == "cached-rates"
    assert outcome.text("out/rates.txt") == '{"source":"cache","reason":"HTTP 500: Internal Server Error"}'
    assert "cached-rates" not in outcome.state.node_results  # it runs only as a fallback
    # /status: 503 once, then 200 (the <retry> key: value form)
    assert len(api.calls("/status")) == 2 and outcome.result("status").attempts == 2
    assert outcome.text("out/status.json") == json_file({"healthy": True, "version": "2.4"})


async def test_resilient_fetch__live_rates(examples, api):
    api.rates_status = 200
    outcome = await examples.run("resilient-fetch")
    assert outcome.status == "completed", outcome.failure
    assert len(api.calls("/rates")) == 1 and outcome.result("rates").fell_back_to is None
    assert outcome.text("out/rates.txt") == json_file({"EUR": 1, "USD": 1.1})


# ------------------------------------------------------------------ checkpoint
async def test_approval_gate(examples):
    outcome = await examples.run("approval-gate")
    assert outcome.status == "completed", outcome.failure
    review = outcome.output("review")
    assert {k: review[k] for k in ("action", "input", "timedOut")} == {
        "action": "approve", "input": "4 orders ready", "timedOut": False}
    assert isinstance(review["respondedAt"], str)
    assert outcome.text("out/decision.txt") == "approve: 4 orders ready (timed out: false)"


async def test_approval_gate__reject_cancels(examples):
    path = examples.path("approval-gate")
    path.write_text(path.read_text().replace('default="approve"', 'default="reject"'))
    outcome = await examples.run("approval-gate")
    assert outcome.status == "cancelled"
    assert outcome.output("review")["action"] == "reject"
    assert outcome.state.cancellation.checkpoint == "review"
    assert "decision" not in outcome.state.node_results and outcome.written() == []


def test_approval_gate__cli(examples):
    """No terminal (stdin is /dev/null): the default action at once; the log is written into the file."""
    done = examples.cli("approval-gate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (examples.folder / "out" / "decision.txt").read_text() == "approve: 4 orders ready (timed out: false)"
    text = examples.path("approval-gate").read_text()
    assert text.startswith((EXAMPLES / "approval-gate.flow.md").read_text())  # the workflow is kept as it was
    log = text.split("## Execution Log", 1)[1]
    assert "**Status:** completed" in log and "**Waves:** 5" in log
    assert "| review | success |" in log


# ------------------------------------------------------------------ AI
USER_PROMPT = ('Summarise "Workflows as documents": FlowScript keeps a workflow, its documentation and its last '
               "run log in one Markdown file.")


async def test_ai_summary(examples, api):
    outcome = await examples.run("ai-summary", secrets={"OPENROUTER_API_KEY": AI_KEY})
    assert outcome.status == "completed", outcome.failure
    assert outcome.output("summarise") == GOOD_SUMMARY
    assert outcome.text("out/summary.json") == json_file(GOOD_SUMMARY)
    assert outcome.text("out/headline.txt") == "ONE FILE PER WORKFLOW [markdown, workflows] 8/10"
    assert outcome.result("summarise").meta["usage"]["total_tokens"] == 50
    [request] = api.requests
    assert request.path == "/v1/chat/completions" and request.headers["authorization"] == f"Bearer {AI_KEY}"
    body = request.body
    assert body["model"] == "openai/gpt-4o-mini" and body["max_tokens"] == 300
    assert body["messages"] == [{"role": "system", "content": "You summarise texts for busy engineers."},
                                {"role": "user", "content": USER_PROMPT}]
    [tool] = body["tools"]
    assert tool["function"]["name"] == "respond"
    parameters = tool["function"]["parameters"]
    assert parameters["type"] == "object" and set(parameters["required"]) == {"summary", "score", "tags"}
    assert parameters["properties"] == {"summary": {"type": "string"}, "score": {"type": "number"},
                                        "tags": {"type": "array", "items": {"type": "string"}}}
    assert body["tool_choice"] == {"type": "function", "function": {"name": "respond"}}
    assert AI_KEY not in outcome.state_file_text()


async def test_ai_summary__invalid_answer_is_asked_again(examples, api):
    api.ai_answers = [completion({"summary": "One file per workflow", "score": "high", "tags": "markdown"}),
                      completion(GOOD_SUMMARY)]
    outcome = await examples.run("ai-summary", config={"model": "test/model"},
                                 secrets={"OPENROUTER_API_KEY": AI_KEY})
    assert outcome.status == "completed", outcome.failure
    assert outcome.text("out/summary.json") == json_file(GOOD_SUMMARY)
    assert outcome.result("summarise").meta["usage"]["requests"] == 2
    first, second = (r.body for r in api.requests)
    assert first["model"] == second["model"] == "test/model"
    assert second["messages"][:2] == first["messages"]
    reask = second["messages"][2]
    assert reask["role"] == "user" and reask["content"].startswith("Your previous answer was invalid")
    assert "score" in reask["content"] and "tags" in reask["content"]
