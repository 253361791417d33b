# Mulan in a container: `docker build -t mulan .` then
#   docker run -p 5080:5080 -v mulan-data:/data -e MULAN_ADMIN_KEY=... mulan
# Providers and models: mount a file and pass it, e.g. -v ./mulan.json:/etc/mulan/mulan.json:ro, and append
#   serve --config /etc/mulan/mulan.json
# See docs/operations.md ("Deploy").

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# What the build reads: the SDK pin, the shared props and central package versions, and the server's project.
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props .editorconfig ./
COPY src/Mulan/Mulan.csproj src/Mulan/
# Restored once per change of the project or package versions (a cached layer otherwise).
RUN dotnet restore src/Mulan/Mulan.csproj
COPY src/ src/
# ReadyToRun for linux-x64 (the project's publish settings): no JIT warm-up after a start.
RUN dotnet publish src/Mulan/Mulan.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# curl for the health check only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data \
    && chown 1654:1654 /data \
    && chmod 0700 /data
WORKDIR /app
COPY --from=build /app ./
# Listen on every interface inside the container (the server's own default is loopback only); keep state in /data.
ENV ASPNETCORE_URLS=http://0.0.0.0:5080 \
    MULAN_DATA=/data \
    DOTNET_gcServer=0
VOLUME ["/data"]
EXPOSE 5080
# The image's unprivileged "app" user (UID 1654).
USER 1654:1654
# 200 once storage is reachable; the first start migrates the database, hence the start period.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:5080/healthz || exit 1
# docker stop sends SIGTERM: requests and streams in flight get Gateway:ShutdownDrainSeconds (30) to finish;
# give docker stop a longer timeout (docker stop -t 45, or stop_grace_period in compose).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/mulan"]
CMD ["serve"]
