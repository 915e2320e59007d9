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
