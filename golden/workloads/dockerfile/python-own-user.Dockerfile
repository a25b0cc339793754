# workload: a Celery worker image that creates its own user and switches to it
# expect: final.USER = celery; fix of DF002 is absent; final.CMD unchanged
# evidence: build python-own-user.Dockerfile#L7-L10
# evidence: docker-library/python 3.13/trixie/Dockerfile#L117
FROM python:3.12-slim
RUN pip install --no-cache-dir celery[redis]==5.4.0
RUN useradd --create-home --uid 1000 celery
WORKDIR /home/celery/app
COPY --chown=celery:celery . .
USER celery
CMD ["celery", "-A", "tasks", "worker", "--loglevel=INFO"]
