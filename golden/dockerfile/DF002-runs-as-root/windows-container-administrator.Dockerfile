# escape=`
FROM mcr.microsoft.com/windows/nanoserver:ltsc2022
USER ContainerAdministrator
COPY app.exe C:\app\
CMD ["C:\\app\\app.exe"]
