FROM docker.io/library/python:latest AS build
RUN pip wheel -w /wheels .
FROM nginx
FROM registry.example.com:5000/team/api
FROM ghcr.io/org/tool
COPY --from=build /wheels /wheels
