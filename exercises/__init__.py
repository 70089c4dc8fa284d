"""d2l chapter 3, linear neural networks (v0.17 semantics): one module per exercise."""
