# workload: a cron container that must run crond as root and says so with an explicit USER root
# expect: final.USER = root; final.CMD = ["crond", "-f", "-l", "2"]
# evidence: build cron-explicit-root.Dockerfile#L9-L11
# evidence: alpinelinux/docker-alpine x86_64/Dockerfile#L1-L3
FROM alpine:3.20
RUN apk add --no-cache curl
COPY crontab /etc/crontabs/root
COPY backup.sh /usr/local/bin/backup.sh
# crond needs root to read /etc/crontabs and to run jobs as their owners
USER root
CMD ["crond", "-f", "-l", "2"]
