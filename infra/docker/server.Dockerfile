# syntax=docker/dockerfile:1
# The FaasEvents control plane (KEDA scaler, ingress, ping sources). Build from the repository root:
#   docker build -f infra/docker/server.Dockerfile -t <registry>/faasevents-server:<tag> .
ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN dotnet publish src/FaasEvents.Server/FaasEvents.Server.csproj -c Release -o /app --nologo -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
WORKDIR /app
COPY --from=build /app ./
# Storage: FAAS_STORAGE = https://<account>.blob.core.windows.net (managed identity) or a connection string.
ENV FAAS_HTTP_PORT=8080 \
    FAAS_GRPC_PORT=6000 \
    DOTNET_gcServer=0
EXPOSE 8080 6000
# The aspnet images ship a non-root user; APP_UID is its id.
USER $APP_UID
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 CMD ["dotnet", "FaasEvents.Server.dll", "--healthcheck"]
# SIGTERM (what Kubernetes sends) stops the host gracefully.
STOPSIGNAL SIGTERM
ENTRYPOINT ["dotnet", "FaasEvents.Server.dll"]
