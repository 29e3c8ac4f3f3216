# Parley in a container: `parley serve` on 0.0.0.0:8000, state under /app/var (mount a volume).
# Not built on the project's own machines (no container builder there); it installs exactly
# what `make run` installs.
FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e . && useradd --create-home parley && chown -R parley /app
USER parley
ENV PARLEY_HOST=0.0.0.0 PARLEY_PORT=8000
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
CMD ["parley", "serve"]
