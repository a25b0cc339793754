# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
ARG ADMIN_PASSWORD=FAKEwin-Passw0rd!
ENV sa_password=FAKEg0rd0n1!
RUN powershell -Command `
    $env:ADMIN_PASSWORD | Out-Null
