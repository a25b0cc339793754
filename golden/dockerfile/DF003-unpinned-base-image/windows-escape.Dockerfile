# escape=`
FROM mcr.microsoft.com/windows/servercore AS build
RUN powershell -Command `
    Write-Host building
FROM mcr.microsoft.com/windows/nanoserver:latest
COPY --from=build C:\app C:\app
