package io.sluice.coordinator;

import io.javalin.Javalin;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * {@code GET /api/v1/openapi.json}: the OpenAPI 3.1 document of the coordinator's API, the file
 * {@code openapi/openapi.json} of this module's resources. It needs no token: it describes the API,
 * it shows no data.
 */
final class OpenApiDocument {
  static final String RESOURCE = "/openapi/openapi.json";

  private OpenApiDocument() {}

  static void register(Javalin app) {
    byte[] document = load();
    app.get(
        "/api/v1/openapi.json",
        ctx ->
            ctx.contentType("application/json")
                .header("Cache-Control", "max-age=300")
                .result(document));
  }

  private static byte[] load() {
    try (InputStream in = OpenApiDocument.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "the OpenAPI document " + RESOURCE + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
