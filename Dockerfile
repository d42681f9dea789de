# RTM dashboard: the Streamlit app with the embedded Chicago demo, CPU only.
#   docker build -t rtm . && docker run -p 8501:8501 -v "$PWD/runs:/app/runs" rtm
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RTM_RUNS_DIR=/app/runs

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

CMD ["streamlit", "run", "app.py", "--server.port", "8501", "--server.address", "0.0.0.0", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
