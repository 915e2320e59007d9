"""Node kinds: one module per kind (its model, reading, checks, references and run), the
data nodes' shared reading (data.py) and I/O (io/), and the registry that lists them."""
