"""Model loading, prompt templates, the embedded tiny base model, checkpoints."""
