# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command"]
# Nothing here runs a POSIX shell.
RUN wsl apt-get update; `
    wsl apt-get install -y git
