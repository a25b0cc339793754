FROM ubuntu:24.04
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
COPY app.py /srv/app.py
# switch back to root for the entrypoint
USER root
CMD ["python3", "/srv/app.py"]
