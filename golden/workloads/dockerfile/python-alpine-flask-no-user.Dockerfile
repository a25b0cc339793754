# workload: a Flask app on python:3.12-alpine served by gunicorn, no USER
# expect: final.USER = "10001:10001"; final.RUN has adduser
# expect: final.CMD unchanged
# evidence: docker-library/python 3.13/trixie/Dockerfile#L117
# evidence: docker-library/python 3.13/alpine3.23/Dockerfile#L7-L56
FROM python:3.12-alpine
ENV PYTHONUNBUFFERED=1
WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt gunicorn
COPY . .
EXPOSE 5000
CMD ["gunicorn", "-w", "4", "-b", "0.0.0.0:5000", "app:app"]
