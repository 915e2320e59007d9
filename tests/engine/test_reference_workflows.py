"""Workflows written for the reference engine (the TypeScript FlowScript) run here as written:
its extract dialect (JMESPath Community) and its examples' shapes."""

from __future__ import annotations

from loopback import CountingServer


async def test_a_dollar_rooted_extract_in_a_response_block(write_flow, run):
    """`<response> extract: $.data[*]` as the reference's examples write it (it used to fail with
    "invalid JMESPath expression"): `$` is the root, and let-expressions work too."""
    answer = {"data": [{"id": 1, "ok": True}, {"id": 2, "ok": False}], "limit": 1}
    with CountingServer({"/items": answer}) as server:
        path = write_flow(f"""
<source id="all" type="http" url="{server.url}/items">
  <response>
    extract: $.data[*]
  </response>
</source>
<source id="some" type="http" url="{server.url}/items">
  <response>
    extract: let $n = $.limit in $.data[?id <= $n].id
  </response>
</source>
<transform id="ids" type="map" input="all" expression="$item.id"/>""")
        outcome = await run(path)
    assert outcome.status == "completed", outcome.failure
    assert outcome.output("all") == answer["data"]
    assert outcome.output("some") == [1] and outcome.output("ids") == [1, 2]


CHECKPOINT_APPROVAL = """
<source id="data" type="file" path="data.json"/>
<transform id="summary" type="ai" input="data" model="m" base-url="http://127.0.0.1:9"/>
<checkpoint id="review" input="summary" prompt="Publish?"/>
<sink id="publish" type="file" input="{sink_input}" path="out/summary.json"/>
"""


def test_a_checkpoint_whose_wave_runs_a_sink_beside_it_is_a_warning_with_the_fix(write_flow):
    """The reference's "checkpoint approval" example: the sink takes the AI's output, as the
    checkpoint does, so it writes the file while the approval is asked."""
    from flowscript.compiler.loader import load_workflow

    loaded = load_workflow(write_flow(CHECKPOINT_APPROVAL.format(sink_input="summary")))
    [warning] = [d for d in loaded.diagnostics if d.code == "VALID_CHECKPOINT_NOT_AWAITED"]
    assert warning.severity == "warning" and warning.location.line == 12  # the sink, where the fix goes
    assert "'publish' does not wait for checkpoint 'review'" in warning.message
    assert warning.hint.startswith('give it input="review"')
    gated = load_workflow(write_flow(CHECKPOINT_APPROVAL.format(sink_input="review"), name="gated"))
    assert [d.code for d in gated.diagnostics if d.code == "VALID_CHECKPOINT_NOT_AWAITED"] == []
    assert [w.node_ids for w in gated.plan.waves][2:] == [("review",), ("publish",)]


async def test_the_gating_pattern_writes_nothing_when_the_approval_is_refused(write_flow, run, tmp_path):
    """docs/language.md#checkpoint: a sink that takes the checkpoint as its input runs only after
    an approval (with no one to ask, the default, reject, is taken at once)."""
    path = write_flow("""
<transform id="draft" type="template"><template>hello</template></transform>
<checkpoint id="review" input="draft" prompt="Publish?"/>
<transform id="approved" type="map" input="review" expression="$item.input"/>
<sink id="publish" type="file" input="approved" path="out/draft.txt"/>
<sink id="early" type="file" input="draft" path="out/early.txt"/>""")
    outcome = await run(path)
    assert outcome.status == "cancelled"
    assert not (tmp_path / "out" / "draft.txt").exists()
    assert (tmp_path / "out" / "early.txt").read_text() == "hello"  # the warned-about shape: written anyway
