# workload: a FastAPI service on python:3.12-slim run by uvicorn, no USER
# expect: final.USER = "10001:10001"; final.RUN has useradd
# expect: final.CMD unchanged; final.FROM = python:3.12-slim
# expect: final.HEALTHCHECK absent; fix of DF004 is display-only
# evidence: docker-library/python 3.13/trixie/Dockerfile#L117
# evidence: docker-library/python 3.13/slim-trixie/Dockerfile#L124-L135
FROM python:3.12-slim

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

EXPOSE 8000
CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]
