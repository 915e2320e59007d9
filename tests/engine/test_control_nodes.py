"""Control nodes (docs/language.md#control-nodes-at-run-time): bodies, chaining, iterations, isolation, merge."""

from __future__ import annotations

import asyncio
import pickle

import httpx
import respx

from flowscript.runtime.local_backend import LocalBackend


def tpl(node_id: str, template: str, input: str | None = None) -> str:
    attr = f' input="{input}"' if input else ""
    return f'<transform id="{node_id}" type="template"{attr}><template>{template}</template></transform>'


async def test_if_runs_the_chosen_body_and_skips_the_other(write_flow, run):
    path = write_flow(tpl("n", "7") + f"""
<if id="gate" condition="to_number(n.output) > 5" input="n">
  <then>{tpl("big", "big {{input}}")}{tpl("bigger", "{{input}}!")}</then>
  <else>{tpl("small", "small")}</else>
</if>
<if id="pass" condition="false" input="n"><then>{tpl("never", "x")}</then></if>""")
    outcome = await run(path)
    assert outcome.output("gate") == "big 7!"
    assert outcome.result("small").status == "skipped"
    assert outcome.output("pass") == "7"  # no body ran: the input passes through


async def test_branch_takes_the_first_truthy_case(write_flow, run):
    path = write_flow(f"""
<branch id="route" input="x">
  <case when="false">{tpl("a", "a")}</case>
  <case when="1 == 1">{tpl("b", "b")}</case>
  <case when="true">{tpl("c", "c")}</case>
  <default>{tpl("d", "d")}</default>
</branch>""" + tpl("x", "in"))
    outcome = await run(path)
    assert outcome.output("route") == "b"
    assert [outcome.result(k).status for k in "acd"] == ["skipped"] * 3


async def test_loop_break_expression_sees_this_iteration_and_chains_outputs(write_flow, run):
    path = write_flow("""
<loop id="count" max="10" break="step.output >= 4">
  <transform id="step" type="map" expression="is_null($item) ? 1 : $item * 2"/>
</loop>""")
    outcome = await run(path)
    assert outcome.output("count") == 4  # 1, 2, 4
    assert [outcome.output(f"count[{i}].step") for i in range(3)] == [1, 2, 4]
    assert outcome.output("step") == 4 and outcome.result("count").meta["iterations"] == 3


async def test_break_element_ends_the_loop_with_the_last_completed_output(write_flow, run):
    path = write_flow(f"""
<loop id="l" max="10">
  {tpl("it", "{{$iteration}}")}
  <if id="stop" condition="it.output == '2'"><then><break/></then></if>
</loop>""")
    outcome = await run(path)
    assert outcome.output("l") == "2"
    assert "l[3].it" not in outcome.state.node_results


async def test_while_checks_before_each_iteration_and_notes_the_bound(write_flow, run):
    path = write_flow(f"""
<while id="w" condition="$iteration == 0 || to_number(tick.output) < 3" max="10">{tpl("tick", "{{$iteration + 1}}")}</while>
<while id="bounded" condition="true" max="2">{tpl("t2", "x")}</while>
<while id="never" condition="false">{tpl("t3", "x")}</while>""")
    outcome = await run(path)
    assert outcome.output("w") == "3"
    assert outcome.result("bounded").meta["boundHit"] is True
    assert outcome.result("w").meta["boundHit"] is False
    assert outcome.result("never").meta["iterations"] == 0


async def test_foreach_runs_its_body_per_item_with_names_and_keeps_every_iteration(write_flow, run):
    path = write_flow(f"""
<transform id="items" type="map" expression="[3, 1, 2]"/>
<foreach id="each" collection="items.output" item="n" index="i">
  {tpl("fmt", "{{i}}:{{n}}:{{input}}")}
  <transform id="twice" type="template"><template>{{{{input}}}}|</template></transform>
</foreach>
<foreach id="defaults" collection="'solo'">{tpl("d", "{{index}}={{item}}")}</foreach>""")
    outcome = await run(path)
    assert outcome.output("each") == ["0:3:3|", "1:1:1|", "2:2:2|"]
    assert outcome.output("each[1].fmt") == "1:1:1"
    assert outcome.output("defaults") == ["0=solo"]  # a non-list is one item


async def test_concurrent_foreach_keeps_item_order_and_isolates_iterations(write_flow, run):
    running = peak = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        n = int(request.url.path.rsplit("/", 1)[1])
        await asyncio.sleep(0.05 if n % 2 else 0.01)
        running -= 1
        return httpx.Response(200, json={"n": n})

    path = write_flow("""
<transform id="ids" type="map" expression="range(0, 8)"/>
<foreach id="all" collection="ids.output" item="k" concurrency="3">
  <source id="one" type="http" url="http://127.0.0.1:9/item/{{k}}"/>
  <transform id="check" type="map" expression="$item.n == k ? k : 'LEAK'"/>
</foreach>""")
    with respx.mock:
        respx.get(url__regex=r".*/item/\d+").mock(side_effect=answer)
        outcome = await run(path)
    assert outcome.output("all") == list(range(8))
    assert peak == 3
    assert outcome.output("one") == {"n": 7}  # the plain result is the last item's


async def test_sequential_foreach_break_keeps_completed_iterations(write_flow, run):
    path = write_flow(f"""
<transform id="xs" type="map" expression="[1, 2, 3, 4]"/>
<foreach id="each" collection="xs.output">
  <if id="stop" condition="item == 3"><then><break/></then></if>
  {tpl("v", "{{item}}")}
</foreach>
<foreach id="conc" collection="xs.output" concurrency="4">
  <if id="stop2" condition="item == 3"><then><break/></then></if>
  {tpl("w", "{{item}}")}
</foreach>""")
    outcome = await run(path)
    assert outcome.output("each") == ["1", "2"]
    assert outcome.output("conc") == ["1", "2", None, "4"]


async def test_foreach_failure_fails_the_node(write_flow, run):
    path = write_flow("""
<transform id="xs" type="map" expression="['a.json', 'missing.json']"/>
<foreach id="each" collection="xs.output" concurrency="2">
  <source id="read" type="file" path="{{item}}"/>
</foreach>""")
    (path.parent / "a.json").write_text("[1]")
    outcome = await run(path)
    assert outcome.status == "failed"
    assert outcome.result("each").status == "failed"
    assert "missing.json" in outcome.result("each").error.message
    assert outcome.result("each[0].read").status == "success"


async def test_foreach_treats_any_non_list_even_null_as_one_item(write_flow, run):
    path = write_flow(
        '<foreach id="nothing" collection="null">' + tpl("n", "[{{item}}]") + "</foreach>"
        + '<foreach id="one" collection="{a: 1}">' + tpl("o", "{{item.a}}") + "</foreach>"
        + '<foreach id="none" collection="[]">' + tpl("z", "never") + "</foreach>")
    outcome = await run(path)
    assert outcome.output("nothing") == ["[]"] and outcome.output("one") == ["1"] and outcome.output("none") == []
    assert outcome.result("nothing[0].n").status == "success"


class ChunkingBackend(LocalBackend):
    """Groups foreach iterations by 3, as the Prefect backend does above its threshold, and
    sends each chunk and its outcome through pickle, as a Dask cluster would."""

    def __init__(self) -> None:
        super().__init__(interactive=False)
        self.chunks: list[str] = []

    def iteration_chunk_size(self, items: int) -> int | None:
        return 3

    async def run_chunk(self, chunk, resources):
        self.chunks.append(chunk.label)
        done = await super().run_chunk(pickle.loads(pickle.dumps(chunk)), resources)
        return pickle.loads(pickle.dumps(done))


async def test_chunked_iterations_give_the_same_outputs_and_a_break_stops_later_chunks(write_flow, run):
    path = write_flow(
        '<foreach id="all" collection="range(0, 8)" concurrency="2">' + tpl("sq", "{{item * item}}") + "</foreach>"
        + '<foreach id="upto" collection="range(0, 8)">'
        + '<if id="stop" condition="item == 4"><then><break/></then></if>' + tpl("v", "{{item}}") + "</foreach>")
    backend = ChunkingBackend()
    outcome = await run(path, backend=backend)
    assert outcome.status == "completed"
    assert outcome.output("all") == [str(i * i) for i in range(8)]
    assert outcome.output("upto") == ["0", "1", "2", "3"]
    assert [c for c in backend.chunks if c.startswith("all")] == ["all[0-2]", "all[3-5]", "all[6-7]"]
    assert [c for c in backend.chunks if c.startswith("upto")] == ["upto[0-2]", "upto[3-5]"]
    assert outcome.result("all").meta == {"items": 8, "iterations": 8, "chunkSize": 3}
    assert outcome.result("all[7].sq").output == "49"


async def test_parallel_branches_merge_in_every_mode(write_flow, run):
    path = write_flow(f"""
<transform id="src" type="map" expression="{{v: 5}}"/>
<parallel id="arr" input="src">
  <branch>{tpl("l", "left {{input.v}} {{$branch}}")}</branch>
  <branch>{tpl("r1", "{{input.v * 2}}")}{tpl("r2", "right {{input}} {{$branch}}")}</branch>
</parallel>
<parallel id="cat" input="src" merge="concat">
  <branch><transform id="c1" type="map" expression="[1, 2]"/></branch>
  <branch><transform id="c2" type="map" expression="3"/></branch>
</parallel>
<parallel id="obj" input="src" merge="object">
  <branch><transform id="o1" type="map" expression="{{a: 1, b: 1}}"/></branch>
  <branch><transform id="o2" type="map" expression="{{b: 2}}"/></branch>
</parallel>
<parallel id="expr" input="src" merge="sum($branches) * 10">
  <branch><transform id="e1" type="map" expression="1"/></branch>
  <branch><transform id="e2" type="map" expression="2"/></branch>
</parallel>""")
    outcome = await run(path)
    assert outcome.output("arr") == ["left 5 0", "right 10 1"]
    assert outcome.output("cat") == [1, 2, 3]
    assert outcome.output("obj") == {"a": 1, "b": 2}
    assert outcome.output("expr") == 30
    assert outcome.output("r1") == "10"  # branch outputs stay visible after the parallel


async def test_parallel_any_takes_the_first_success_and_cancels_the_rest(write_flow, run):
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json="slow")

    path = write_flow(f"""
<parallel id="race" wait="any">
  <branch><source id="slow" type="http" url="http://127.0.0.1:9/slow"/></branch>
  <branch>{tpl("fast", "fast")}</branch>
</parallel>
<parallel id="two" wait="n(2)">
  <branch><source id="broken" type="file" path="missing.json"/></branch>
  <branch>{tpl("ok1", "1")}</branch>
  <branch>{tpl("ok2", "2")}</branch>
</parallel>
<parallel id="too-few" wait="n(2)">
  <branch><source id="broken2" type="file" path="missing.json"/></branch>
  <branch><source id="broken3" type="file" path="missing.json"/></branch>
  <branch>{tpl("ok3", "3")}</branch>
</parallel>""")
    with respx.mock:
        respx.get("http://127.0.0.1:9/slow").mock(side_effect=slow)
        outcome = await run(path)
    assert outcome.output("race") == ["fast"]
    assert outcome.result("slow").status == "skipped"
    assert sorted(outcome.output("two")) == ["1", "2"]
    assert outcome.result("too-few").status == "failed"


async def test_checkpoint_default_action_without_a_terminal(write_flow, run):
    path = write_flow(tpl("draft", "d") + """
<checkpoint id="ok" input="draft" prompt="Go?" default="approve" timeout="2000"/>
<transform id="after" type="template" input="ok"><template>{{input.action}} {{input.input}} {{input.timedOut}}</template></transform>""")
    outcome = await run(path)
    assert outcome.output("after") == "approve d false"


async def test_checkpoint_reject_cancels_the_run(write_flow, run):
    path = write_flow(tpl("draft", "d") + '<checkpoint id="gate" input="draft" prompt="Go?"/>'
                      + tpl("publish", "published", "gate"))
    outcome = await run(path)
    assert outcome.status == "cancelled"
    assert "publish" not in outcome.state.node_results
    assert outcome.state.cancellation.checkpoint == "gate"
    assert outcome.state.cancellation.by == "default (no one to ask)"
    assert outcome.result("gate").output["action"] == "reject"


async def test_a_failing_iteration_in_a_chunk_keeps_the_others_results_and_fails_the_foreach(write_flow, run):
    path = write_flow('<foreach id="each" collection="range(0, 7)">'
                      """<source id="v" type="file" path="{{item == 4 ? 'missing.json' : 'ok.json'}}"/></foreach>""")
    (path.parent / "ok.json").write_text("[1]")
    outcome = await run(path, backend=ChunkingBackend())
    assert outcome.status == "failed"
    assert [outcome.result(f"each[{i}].v").output for i in range(4)] == [[1]] * 4
    assert outcome.result("each[4].v").status == "failed" and "each[5].v" not in outcome.state.node_results
    assert outcome.result("each").status == "failed" and "missing.json" in outcome.result("each").error.message
    saved = outcome.saved()  # every result of the chunks reached the state file
    assert saved.node_results["each[3].v"].output == [1] and saved.node_results["each[4].v"].status == "failed"
