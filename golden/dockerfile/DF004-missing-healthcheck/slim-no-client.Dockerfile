FROM python:3.12-slim
COPY app.py /app/
EXPOSE 8000
CMD ["python", "/app/app.py"]
