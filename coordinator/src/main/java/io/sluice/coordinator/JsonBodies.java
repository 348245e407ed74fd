package io.sluice.coordinator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;
import io.sluice.json.Json;
import java.io.IOException;
import java.util.Locale;

/** Reads a request's JSON object body: 415 for another content type, 413 past the size limit. */
final class JsonBodies {
  private JsonBodies() {}

  static JsonNode read(Context ctx, long maxBytes) {
    String type = ctx.contentType();
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      throw new ApiException(415, "Content-Type must be application/json")
          .with("got", String.valueOf(type));
    }
    if (ctx.contentLength() > maxBytes) {
      throw new ApiException(
              413, "body of " + ctx.contentLength() + " bytes exceeds the limit of " + maxBytes)
          .with("limit", maxBytes);
    }
    byte[] body = ctx.bodyAsBytes();
    if (body.length > maxBytes) {
      throw new ApiException(413, "body exceeds the limit of " + maxBytes + " bytes")
          .with("limit", maxBytes);
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw new ApiException(400, "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ApiException(400, "unreadable body: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new ApiException(400, "the body must be a JSON object");
    }
    StorableJson.check(root);
    return root;
  }
}
