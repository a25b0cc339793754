FROM mcr.microsoft.com/dotnet/aspnet:8.0
ARG APP_UID=1654
COPY out/ /app/
USER ${APP_UID}
ENTRYPOINT ["dotnet", "/app/app.dll"]
