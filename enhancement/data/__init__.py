"""The challenge's data: its facts and file layout, the sessions manifest,
audio reading and resampling, the submission and its validation, the demo
dataset, and writing any output atomically."""
