# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command"]
RUN Install-WindowsFeature Web-Server; `
    Remove-Item C:\inetpub\wwwroot\* -Recurse
EXPOSE 80
CMD ["C:\\ServiceMonitor.exe", "w3svc"]
