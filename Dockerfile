# Causerie: one Deno process. Build: docker build -t causerie .
# Run:   docker compose up -d   (compose.yaml: MariaDB, open-file limit, restart policy, admin password secret)
FROM denoland/deno:2.9.6

WORKDIR /app
COPY deno.json deno.lock ./
COPY . .
# Install the locked npm dependencies into node_modules, type-check once and build the browser
# client (web/dist/; `task start` then finds it up to date and writes nothing). The code stays
# owned by root and read-only for the server's user: only /data is writable.
RUN deno install --frozen --entrypoint main.ts cli/main.ts legacy/main.ts web/main.tsx web/inspector/main.tsx \
  && deno task build \
  && mkdir -p /data \
  && chown deno:deno /data \
  && chmod 0700 /data \
  && chmod -R a+rX,go-w /app

ENV CAUSERIE_HOST=0.0.0.0 \
    CAUSERIE_PORT=8080 \
    CAUSERIE_DB=sqlite:/data/causerie.db \
    CAUSERIE_ADMIN_SOCKET=/data/admin.sock
VOLUME /data
EXPOSE 8080
USER deno
# `docker stop` sends SIGTERM: the shutdown countdown, then a clean exit (stop_grace_period covers it).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s \
  CMD deno eval "const r = await fetch('http://127.0.0.1:8080/healthz'); Deno.exit(r.ok ? 0 : 1)"
CMD ["task", "start"]
