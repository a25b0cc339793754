FROM python:3.12
RUN pip install gunicorn
COPY . /app
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
