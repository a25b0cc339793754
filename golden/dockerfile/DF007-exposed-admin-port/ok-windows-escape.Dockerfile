# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command"]
RUN Write-Host 22; `
    Write-Host 2375
EXPOSE 80 `
    443
