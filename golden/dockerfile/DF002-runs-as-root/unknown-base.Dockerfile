FROM mycompany/runtime:1.4
COPY app /opt/app
CMD ["/opt/app/run"]
