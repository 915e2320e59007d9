"""FlowScript expressions and templates: a safe subset of JavaScript expressions."""
