# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command"]
RUN dockerd --register-service `
    -H npipe:// `
    -H tcp://0.0.0.0:2376 --tlsverify
ENV DOCKER_HOST=npipe:////./pipe/docker_engine
