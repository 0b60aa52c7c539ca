package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/junctionhub/junction/pluginsdk"
)

// newClient builds the SDK client. It does no I/O.
//
// The SDK needs a net/http client, so it cannot use the host's guarded
// pluginsdk.HTTPClient; it gets its own transport whose dialer refuses
// loopback, private, link-local and other internal addresses, checked on
// the address actually dialled (after DNS), unless config.allow_private is
// set. Proxies from the environment are not used, for the same reason.
func newClient(s settings) (*awss3.Client, *http.Transport) {
	dialer := &net.Dialer{Timeout: s.timeout, KeepAlive: 30 * time.Second}
	if !s.allowPrivate {
		dialer.Control = refusePrivate
	}
	tr := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   s.timeout,
		ResponseHeaderTimeout: s.timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   8,
		ForceAttemptHTTP2:     true,
	}
	var creds aws.CredentialsProvider = aws.AnonymousCredentials{}
	if s.accessKey != "" {
		creds = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(s.accessKey, s.secretKey, ""))
	}
	opts := awss3.Options{
		Region:       s.region,
		UsePathStyle: s.pathStyle,
		Credentials:  creds,
		HTTPClient:   &http.Client{Transport: tr},
		// Checksums only where S3 requires them: many S3-compatible servers
		// reject the newer default trailing checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           3,
	}
	if s.endpoint != "" {
		opts.BaseEndpoint = aws.String(s.endpoint)
	}
	return awss3.New(opts), tr
}

// privateAddrError is a dial the network policy refused.
type privateAddrError struct{ addr, class string }

func (e *privateAddrError) Error() string {
	return fmt.Sprintf("address %s is %s; set config.allow_private: true to reach it", e.addr, e.class)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// refusePrivate is the dialer's Control: it sees the resolved address.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &privateAddrError{addr: address, class: "not an IP address"}
	}
	ip := ap.Addr().Unmap()
	class := ""
	switch {
	case ip.IsLoopback():
		class = "loopback"
	case ip.IsPrivate():
		class = "private"
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		class = "link-local"
	case ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast():
		class = "not a unicast address"
	case cgnat.Contains(ip) || ip.Is4() && ip.As4()[0] == 0:
		class = "internal"
	}
	if class != "" {
		return &privateAddrError{addr: ip.String(), class: class}
	}
	return nil
}

// codes S3 answers with that a retry cannot fix.
var permanentCodes = map[string]string{
	"AccessDenied":                 "access denied",
	"AllAccessDisabled":            "access to the bucket is disabled",
	"InvalidAccessKeyId":           "the access key id is not known (auth.username)",
	"SignatureDoesNotMatch":        "the secret access key is wrong (auth.password)",
	"InvalidBucketName":            "the bucket name is invalid",
	"AuthorizationHeaderMalformed": "the region does not match the bucket's (config.region)",
	"PermanentRedirect":            "the bucket is in another region or needs another endpoint (config.region, config.endpoint)",
}

// describe turns an SDK error into a *pluginsdk.Error saying what failed,
// permanent when a retry cannot help.
func (c *Connector) describe(ctx context.Context, err error, format string, args ...any) *pluginsdk.Error {
	what := fmt.Sprintf(format, args...)
	var pe *pluginsdk.Error
	var priv *privateAddrError
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	switch {
	case errors.As(err, &pe):
		return pe
	case ctx.Err() != nil:
		return pluginsdk.Retryable("%s: %s: %v", c.where(), what, context.Cause(ctx))
	case errors.As(err, &priv):
		return pluginsdk.Errorf("%s: %s: %v", c.where(), what, priv)
	case errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket":
		return pluginsdk.Errorf("s3 bucket %q does not exist at %s", c.set.bucket, c.set.endpointName())
	case errors.As(err, &api) && permanentCodes[api.ErrorCode()] != "":
		return pluginsdk.Errorf("%s: %s: %s (%s)", c.where(), what, permanentCodes[api.ErrorCode()], api.ErrorCode())
	case errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound && errors.As(err, &api):
		return pluginsdk.Errorf("%s: %s: not found (%s)", c.where(), what, api.ErrorCode())
	case errors.As(err, &resp) && resp.HTTPStatusCode() >= 400 && resp.HTTPStatusCode() < 500 &&
		resp.HTTPStatusCode() != http.StatusTooManyRequests && resp.HTTPStatusCode() != http.StatusRequestTimeout:
		return pluginsdk.Errorf("%s: %s: %v", c.where(), what, err)
	}
	return pluginsdk.Retryable("%s: %s: %v", c.where(), what, err)
}

// notFound reports an S3 answer that the key does not exist.
func notFound(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound") {
		return true
	}
	var resp *smithyhttp.ResponseError
	return errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound &&
		!(errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket")
}

// isPrecondition reports a failed If-Match condition.
func isPrecondition(err error) bool {
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	return errors.As(err, &api) && api.ErrorCode() == "PreconditionFailed" ||
		errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusPreconditionFailed
}
