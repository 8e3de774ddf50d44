"""Pure media work: ffmpeg commands, transcription, scene scores, segmentation, captions.

Every stage is a function over paths and plain options that returns a result dataclass and raises
only `pipeline.errors.PipelineError` subclasses. Nothing here reads settings, touches a database
or object storage, or knows about Celery: callers pass options in and store results out.
"""
