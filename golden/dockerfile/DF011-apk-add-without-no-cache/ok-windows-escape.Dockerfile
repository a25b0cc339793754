# escape=`
FROM mcr.microsoft.com/windows/nanoserver:ltsc2022
# Never a POSIX command in a Windows image.
RUN echo apk add curl `
    && echo done
