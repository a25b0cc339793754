ARG PYTHON_IMAGE=python:3.12
FROM ${PYTHON_IMAGE}
COPY . /app
CMD ["python", "/app/main.py"]
