FROM redhat/ubi9-minimal:9.4
RUN microdnf install -y java-21-openjdk-headless && microdnf clean all
COPY app.jar /opt/app.jar
ENTRYPOINT ["java", "-jar", "/opt/app.jar"]
