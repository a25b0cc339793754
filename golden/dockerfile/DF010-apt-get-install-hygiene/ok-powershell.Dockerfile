FROM ubuntu:24.04
SHELL ["pwsh", "-Command"]
RUN apt-get update; apt-get install -y git
