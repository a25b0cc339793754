# escape=`
FROM alpine:3.20
RUN apk add --no-cache curl `
 && curl -fsSL https://example.com/install.sh `
  | sh
