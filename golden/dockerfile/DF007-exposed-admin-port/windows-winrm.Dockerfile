# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
# Remote management of a Windows container: WinRM and RDP.
EXPOSE 80 `
    5985 5986 `
    3389
