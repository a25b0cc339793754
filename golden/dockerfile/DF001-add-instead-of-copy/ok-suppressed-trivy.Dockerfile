FROM alpine:3.20
#trivy:ignore:AVD-DS-0005
ADD app /app
USER 10001:10001
