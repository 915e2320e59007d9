"""The text level of a .flow.md file: positions, the lenient XML reader, `key: value` blocks,
where the execution log section starts. Knows nothing of node kinds or runs."""
