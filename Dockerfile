# RTM dashboard: the Streamlit app with the embedded Chicago demo, CPU only, served to a
# department with login (README: "Serving it to your department").
#   docker build -t rtm .
#   docker run -p 8501:8501 -v "$PWD/runs:/app/runs" \
#     -v "$PWD/secrets.toml:/run/secrets/rtm/secrets.toml:ro" \
#     -e RTM_ANALYSTS=rtm-analysts -e RTM_PLANNERS=rtm-planners -e RTM_ADMINS=rtm-admins rtm
# The secrets ([auth]: the identity provider, cookie_secret) are mounted at run time, never
# copied into the image (.dockerignore keeps secrets.toml out of the build). Without them the
# app serves one line on how to configure login (it listens on every address here). Put TLS
# in front (a reverse proxy), or mount a certificate and add
#   "--server.sslCertFile", "/run/secrets/rtm/cert.pem", "--server.sslKeyFile", "/run/secrets/rtm/key.pem"
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RTM_RUNS_DIR=/app/runs \
    RTM_SESSION_HOURS=8 \
    RTM_MAX_JOBS_PER_USER=2

WORKDIR /app

# Dependencies first, so that code changes do not reinstall them. torch is pinned in
# requirements.txt; the extra index lets pip take its CPU-only wheel (+cpu), not the CUDA one.
COPY requirements.txt .
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu \
        -r requirements.txt \
    && useradd --create-home --uid 10001 rtm \
    && mkdir -p /app/runs \
    && chown rtm:rtm /app /app/runs

COPY --chown=rtm:rtm . .
RUN pip install --no-cache-dir --no-deps .

USER 10001
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4); sys.exit(0 if r.status == 200 else 1)"]

CMD ["streamlit", "run", "app.py", "--server.port", "8501", "--server.address", "0.0.0.0", "--server.headless", "true", "--browser.gatherUsageStats", "false", "--secrets.files", "/run/secrets/rtm/secrets.toml"]
