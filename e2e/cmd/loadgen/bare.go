package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/gofiber/fiber/v2"
)

// bareEnv, when set in loadgen's environment, makes the process the bare
// baseline server instead of the harness: loadgen re-executes itself with it,
// so the baseline runs in its own process like the hub does, and the ratio
// compares two servers under the same client, cores and run.
const bareEnv = "LOADGEN_BARE_ADDR"

// serveBare is the HTTP ceiling the hook path is measured against: a bare
// fiber handler at the same route that checks the same API key and parses
// the same JSON, and answers what the hook answers, without storing anything.
func serveBare(addr string) error {
	app := fiber.New(fiber.Config{DisableStartupMessage: true, BodyLimit: 1 << 20})
	app.Post("/hooks/:connection", func(c *fiber.Ctx) error {
		if subtle.ConstantTimeCompare(c.Request().Header.Peek("X-API-Key"), []byte(apiKey)) != 1 {
			return c.Status(fiber.StatusUnauthorized).JSON(fiber.Map{"error": "unauthorized"})
		}
		var ev map[string]any
		if err := json.Unmarshal(c.Body(), &ev); err != nil {
			return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": err.Error()})
		}
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"accepted": 1})
	})
	app.Get("/readyz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	return app.Listen(addr)
}

// startBare runs this program again as the bare baseline server.
func startBare(ctx context.Context) (*hub, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bare baseline: find loadgen's own binary: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	h := &hub{url: "http://" + addr, done: make(chan error, 1), bare: true}
	h.cmd = exec.Command(self)
	h.cmd.Env = append(os.Environ(), bareEnv+"="+addr)
	h.cmd.Stdout, h.cmd.Stderr = &h.out, &h.out
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start bare baseline: %w", err)
	}
	go func() { h.done <- h.cmd.Wait() }()
	if err := h.waitReady(ctx, 30*time.Second); err != nil {
		return nil, fmt.Errorf("bare baseline: %w", err)
	}
	return h, nil
}

// waitReady polls /readyz until it answers 200.
func (h *hub) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-h.done:
			return fmt.Errorf("exited before it was ready: %v\n%s", err, h.out.String())
		case <-ctx.Done():
			h.stop()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		ready := h.readyPath
		if ready == "" {
			ready = "/readyz"
		}
		if err := getOK(h.url + ready); err == nil {
			return nil
		}
	}
	h.stop()
	return fmt.Errorf("not ready after %s:\n%s", limit, h.out.String())
}

func getOK(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return errors.New(resp.Status)
	}
	return nil
}
