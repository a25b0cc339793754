# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
ADD https://example.com/tool.zip C:\tools\
RUN powershell -Command `
    Expand-Archive C:\tools\tool.zip -DestinationPath C:\tools
