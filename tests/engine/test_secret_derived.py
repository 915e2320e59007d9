"""Secret-derived values (docs/language.md#secrets): a value computed from a secret is secret.
Its node's output is kept in memory only (the state file, the journal and the log hold `***`),
its text is cut out of everything written, and a resume runs such a node again."""

from __future__ import annotations

import base64
import json

import pytest
from loopback import CountingServer

from flowscript.compiler.loader import load_workflow
from flowscript.runtime.engine import Engine, RunOptions
from flowscript.runtime.local_backend import LocalBackend
from flowscript.runtime.persistence import load_state

CANARY = "canary-Secret-7q"
PASS = "pw-Hunter2x"
BASIC = "Basic " + base64.b64encode(f"ada:{PASS}".encode()).decode()


def derived_forms() -> dict[str, str]:
    """What the workflow below makes of the secrets: none of it may be written."""
    token = f"token={CANARY}"
    return {"upper": token.upper(), "lower": token.lower(), "slice": CANARY[3:12], "basic": BASIC,
            "b64": BASIC[6:], "concat": CANARY + PASS, "reversed": CANARY[::-1], "made": CANARY.lower()}


FLOW = """
<transform id="tok" type="template"><template>token={{$secrets.CANARY}}</template></transform>
<transform id="up" type="template" input="tok"><template>{{upper(input)}}</template></transform>
<transform id="low" type="map" input="up" expression="lower($item)"/>
<transform id="part" type="template"><template>{{slice($secrets.CANARY, 3, 12)}}</template></transform>
<transform id="basic" type="template"><template>Basic {{base64_encode($config.user + ":" + $secrets.PASS)}}</template></transform>
<transform id="both" type="map" input="tok" expression="$secrets.CANARY + $secrets.PASS"/>
<transform id="rev" type="map" expression="join(reverse(split($secrets.CANARY, '')), '')"/>
<transform id="keep" type="filter" input="up" condition="true"/>
<transform id="plain" type="template" input="tok"><template>not from the secret</template></transform>
<source id="call" type="http" url="{url}/echo">
  <request>
    headers:
      Authorization: {{basic.output}}
  </request>
</source>
<source id="missing" type="file" input="low" path="data/{{part.output}}.json"/>
<source id="made" type="file" input="low" path="data/{{lower($secrets.CANARY)}}-x.json"/>
"""


def written(tmp_path) -> dict[str, str]:
    return {str(p.relative_to(tmp_path)): p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()}


def leaks(texts: dict[str, str]) -> list[str]:
    return [f"{where}: {name}" for where, text in texts.items() for name, form in derived_forms().items()
            if form in text]


@pytest.fixture
def flow(write_flow):
    def make(url: str):
        return write_flow(FLOW.replace("{url}", url), extra="secrets: [CANARY, PASS]\nconfig:\n  user: ada\n")
    return make


async def test_derived_values_are_used_but_never_written(flow, run, tmp_path):
    with CountingServer({"/echo": {"echo": BASIC}}) as server:
        path = flow(server.url)
        outcome = await run(path, secrets={"CANARY": CANARY, "PASS": PASS})
        sent = server.headers["/echo"][0]["Authorization"]
    assert sent == BASIC  # the derived value did its work...
    assert outcome.output("up") == f"TOKEN={CANARY.upper()}" and outcome.output("low") == f"token={CANARY}".lower()
    assert outcome.status == "failed" and outcome.result("missing").error.code == "RUN_FILE_ERROR"
    plan = load_workflow(path).plan
    assert plan.secret_derived == {"tok", "up", "low", "part", "basic", "both", "rev", "keep"}
    saved = outcome.saved()
    for key in plan.secret_derived:  # ...is kept in memory, and written as ***
        assert saved.node_results[key].output == "***" and saved.node_results[key].secret, key
    assert saved.node_results["plain"].output == "not from the secret" and not saved.node_results["plain"].secret
    assert saved.node_results["call"].output == {"echo": "***"}  # an answer echoing it: cut out by its text
    assert saved.node_results["missing"].error.message == "file not found: data/***.json"
    assert saved.node_results["made"].error.message == "file not found: data/***-x.json"  # made in its own config
    log = path.read_text()
    assert "| up | success |" in log and "| plain | success |" in log
    assert leaks(written(tmp_path)) == [], leaks(written(tmp_path))


async def test_a_resume_runs_secret_derived_nodes_again(flow, run, tmp_path):
    """Their outputs were not kept: the nodes that computed them run again (they only compute),
    from the earliest wave that holds one; what succeeded otherwise is reused."""
    with CountingServer({"/echo": {"ok": 1}}) as server:
        path = flow(server.url)
        first = await run(path, secrets={"CANARY": CANARY, "PASS": PASS})
        assert first.status == "failed"
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / f"{CANARY[3:12]}.json").write_text('{"found": true}')
        (tmp_path / "data" / f"{CANARY.lower()}-x.json").write_text("[]")
        state = load_state(first.state_file)
        engine = Engine(load_workflow(path).plan, LocalBackend(interactive=False),
                        RunOptions(workdir=tmp_path, state_dir=tmp_path / ".state"))
        resumed = await engine.resume(state, {"CANARY": CANARY, "PASS": PASS})
        assert server.received["/echo"] == 1  # the http source succeeded the first time: not called again
    assert resumed.status == "completed"
    assert resumed.node_results["missing"].output == {"found": True}
    assert resumed.node_results["up"].output == f"TOKEN={CANARY.upper()}"  # computed again, not "***"
    assert json.loads(first.state_file.read_text())["nodeResults"]["up"]["output"] == "***"
    assert leaks(written(tmp_path)) == []


async def test_a_body_node_made_from_a_secret_makes_its_loop_secret_derived(write_flow, run):
    path = write_flow("""
<foreach id="each" collection="[1, 2]" item="n">
  <transform id="sig" type="template"><template>{{hash($secrets.CANARY + n)}}</template></transform>
</foreach>
<transform id="count" type="template" input="each"><template>{{length(input)}}</template></transform>
<loop id="again" max="2">
  <transform id="prev" type="template"><template>{{input}}!</template></transform>
  <transform id="mix" type="template"><template>{{lower($secrets.CANARY)}}</template></transform>
</loop>""", extra="secrets: [CANARY]\n")
    plan = load_workflow(path).plan
    # `prev` reads the previous iteration's output, which is `mix`'s
    assert plan.secret_derived == {"each", "sig", "count", "again", "prev", "mix"}
    outcome = await run(path, secrets={"CANARY": CANARY})
    saved = outcome.saved()
    assert {k for k, r in saved.node_results.items() if r.secret} == {
        "each", "sig", "each[0].sig", "each[1].sig", "count", "again", "prev", "mix", "again[0].prev",
        "again[0].mix", "again[1].prev", "again[1].mix"}
    assert all(r.output == "***" for r in saved.node_results.values())


BAD_ZONE = 'format_date(now(), "yyyy", upper($secrets.CANARY))'  # fails quoting the zone it was given


@pytest.mark.parametrize("body", [
    f'<transform id="n" type="template"><template>{{{{{BAD_ZONE}}}}}</template></transform>',
    f'<transform id="n" type="map" expression=\'[1]\'/><transform id="m" type="map" input="n" expression=\'{BAD_ZONE}\'/>',
    f'<transform id="n" type="map" expression=\'[1]\'/><transform id="m" type="filter" input="n" condition=\'{BAD_ZONE}\'/>',
    f'<source id="n" type="file" path=\'{{{{{BAD_ZONE}}}}}.json\'/>',
    f'<if id="n" condition=\'{BAD_ZONE} != null\'><then><transform id="x" type="template"><template>a</template></transform></then></if>',
    f'<foreach id="n" collection=\'[{BAD_ZONE}]\'><transform id="x" type="template"><template>a</template></transform></foreach>',
], ids=["template", "map", "filter", "file-path", "if", "foreach"])
async def test_an_expression_error_does_not_quote_a_value_made_from_a_secret(write_flow, run, tmp_path, body):
    """The value an expression error quotes may be one the expression made from a secret on the
    way (no redactor has seen it): in a node that handles secrets, what it quotes is withheld."""
    outcome = await run(write_flow(body, extra="secrets: [CANARY]\n"), secrets={"CANARY": CANARY})
    assert outcome.status == "failed"
    failed = [r for r in outcome.saved().node_results.values() if r.status == "failed"]
    assert [r.error.message for r in failed] == ["unknown time zone '***'"]
    assert CANARY.upper() not in str(outcome.failure) and not any(CANARY.upper() in t for t in written(tmp_path).values())


async def test_an_expression_error_of_a_node_without_secrets_keeps_its_quotes(write_flow, run):
    outcome = await run(write_flow('<transform id="n" type="template"><template>{{format_date(now(), "yyyy", "Mars/Base")}}'
                                   '</template></transform>'))
    assert outcome.saved().node_results["n"].error.message == "unknown time zone 'Mars/Base'"


async def test_a_secret_that_is_a_word_of_the_state_file_does_not_break_it(write_flow, run, tmp_path):
    """Redaction touches the values a run holds, never the state file's own fields: a secret
    `success` (or `completed`, `output`...) used to turn statuses into `***`, and the file no
    longer loaded."""
    path = write_flow('<transform id="t" type="template"><template>{{length($secrets.WORD)}}</template></transform>'
                      '<transform id="u" type="template"><template>success is near</template></transform>',
                      extra="secrets: [WORD]\n")
    outcome = await run(path, secrets={"WORD": "success"})
    saved = outcome.saved()  # loads: its statuses are intact
    assert saved.status == "completed" and saved.node_results["u"].status == "success"
    assert saved.node_results["u"].output == "*** is near" and saved.node_results["t"].output == "***"


def test_many_derived_values_are_redacted_in_one_pass():
    from flowscript.runtime.secrets import Redactor

    redactor = Redactor(["top-secret"])
    for i in range(2000):
        redactor.learn({"sig": f"derived-{i:04d}-value", "n": i})
    text = "a top-secret b derived-0007-value c derived-1999-valuez d derived-2000-value"
    assert redactor.text(text) == "a *** b *** c ***z d derived-2000-value"
