//! The registry of diagnostic and error codes: one constant per code, so a misspelt code does not compile
//! and the README can list them all ([`ALL`]).
//!
//! Codes are namespaced by the layer that raises them: `json::` (the spanned JSON reader), `iam::` (policy
//! grammar and validation), `eval::` (the IAM evaluator), `token::` (token verification), `pool::`
//! (identity pools), `cedar::` (the Cedar bridge), `apigw::` (API Gateway), `lambda::` (the local Lambda
//! execution environment), `iac::` (templates), `cognito::` and `lint::`
//! (`lint`'s own checks). A code never changes meaning once published.

/// One registered code with its one-line description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code {
    /// `namespace::name`.
    pub code: &'static str,
    /// What it means.
    pub doc: &'static str,
}

macro_rules! registry {
    ($( $(#[doc = $doc:literal])+ $name:ident = $code:literal; )*) => {
        $( $(#[doc = $doc])+ pub const $name: &str = $code; )*
        /// Every registered code, sorted.
        pub const ALL: &[Code] = &[ $( Code { code: $code, doc: concat!($($doc),+) } ),* ];
    };
}

/// Whether `code` is registered.
pub fn is_registered(code: &str) -> bool {
    ALL.iter().any(|c| c.code == code)
}

registry! {

    // API Gateway.
    /// A cached authorizer policy (TTL above 0) that does not allow every route of the API.
    APIGW_CACHE_COVERAGE = "apigw::cache-coverage";
    /// An API definition API Gateway would refuse (TTL above 3,600, a path parameter as an identity
    /// source, caching without identity sources, …) or that cannot be read.
    APIGW_CONFIG = "apigw::config";
    /// An authorizer event the group authorizer cannot read (neither a REST `TOKEN` / `REQUEST` event
    /// nor an HTTP API event of payload format 1.0 or 2.0): the function fails, the client gets 500.
    APIGW_EVENT = "apigw::event";
    /// A group store (policies by Cognito group) that cannot be read.
    APIGW_GROUP_STORE = "apigw::group-store";
    /// An authorizer output API Gateway rejects (missing `principalId` or `policyDocument`, a nested
    /// `context` value, an invalid policy): the client gets 500.
    APIGW_INVALID_OUTPUT = "apigw::invalid-output";
    /// A request that cannot be made (a verb that is not an HTTP method).
    APIGW_REQUEST = "apigw::request";
    /// A `methodArn` longer than 1,600 bytes: the client gets 414.
    APIGW_URI_TOO_LONG = "apigw::uri-too-long";
    // The Cedar bridge and Verified Permissions.
    /// Token claims that cannot be mapped to Cedar entities; AWS answers `ValidationException`.
    CEDAR_CLAIMS = "cedar::claims";
    /// A policy store's configuration that cannot be used.
    CEDAR_CONFIG = "cedar::config";
    /// A Cedar policy whose evaluation failed for a request (it is skipped, as Cedar and Verified
    /// Permissions skip it, and reported with the answer).
    CEDAR_EVALUATION = "cedar::evaluation";
    /// A Cedar policy, template or schema that does not parse.
    CEDAR_POLICY = "cedar::policy";
    /// A Verified Permissions request that is not well-formed; AWS answers `ValidationException`.
    CEDAR_REQUEST = "cedar::request";
    /// A Cedar policy store (policies, schema, identity source, links) that cannot be loaded.
    CEDAR_STORE = "cedar::store";
    /// Policies that fail strict validation against the schema.
    CEDAR_VALIDATION = "cedar::validation";

    // Cognito checks no other linter makes (`lint`).
    /// With `--pool`: the pool's unauthenticated identities can assume a role that is not its guest role
    /// (the basic flow is on and the role's trust policy accepts `amr` `unauthenticated`).
    COGNITO_GUEST_ASSUMES_ROLE = "cognito::guest-assumes-role";
    /// `${cognito-identity.amazonaws.com:sub}` in a policy that no role of the given identity pools uses:
    /// outside identity-pool credentials the variable never resolves, so what it guards matches nothing.
    COGNITO_SUB_VARIABLE_UNUSED = "cognito::sub-variable-unused";
    /// A role trust policy for `cognito-identity.amazonaws.com` with no condition on
    /// `cognito-identity.amazonaws.com:amr`: with the basic flow, the pool's guests can assume the role.
    COGNITO_TRUST_WITHOUT_AMR = "cognito::trust-without-amr";
    /// A role trust policy lets `cognito-identity.amazonaws.com` assume the role with no condition on
    /// `cognito-identity.amazonaws.com:aud`: any identity pool, in any account, can get its credentials.
    COGNITO_TRUST_WITHOUT_AUD = "cognito::trust-without-aud";
    /// An action an unauthenticated (guest) role allows that the guest session policy Cognito applies in
    /// the enhanced flow never allows: guests cannot use it, whatever the role says.
    COGNITO_UNAUTH_BEYOND_SESSION_POLICY = "cognito::unauth-beyond-session-policy";

    // The IAM evaluator.
    /// A policy the evaluator cannot compile (for example a statement without `Action`).
    EVAL_COMPILE = "eval::compile";

    // Templates (CloudFormation, SAM).
    /// A template value that depends on itself (a resource name built from its own ARN, a condition
    /// naming itself).
    IAC_CIRCULAR = "iac::circular";
    /// A template parameter with no value (no default and none given), or a value outside its
    /// `AllowedValues`.
    IAC_PARAMETER = "iac::parameter";
    /// A template that is not JSON or YAML, or uses a tag that is not one of CloudFormation's.
    IAC_PARSE = "iac::parse";
    /// A template whose structure CloudFormation refuses (no `Resources`, a resource without `Type`, a
    /// policy property that is not a policy).
    IAC_TEMPLATE = "iac::template";
    /// A `Ref`, `Fn::GetAtt`, `Fn::Sub` variable, `Fn::FindInMap` key or condition that names nothing, or
    /// an intrinsic function given the wrong arguments.
    IAC_UNRESOLVED = "iac::unresolved";
    /// An intrinsic function policy-check does not resolve (`Fn::Cidr`, `Fn::Transform`, …): the value
    /// is reported, never guessed.
    IAC_UNSUPPORTED = "iac::unsupported";

    // IAM policy grammar and validation.
    /// Action `…` has more than one `:`.
    IAM_ACTION_COLON = "iam::action-colon";
    /// Action `…` has no action name.
    IAM_ACTION_EMPTY = "iam::action-empty";
    /// Action `…` has no service prefix.
    IAM_ACTION_PREFIX = "iam::action-prefix";
    /// Wildcard in the service prefix of `…`.
    IAM_ACTION_SERVICE_WILDCARD = "iam::action-service-wildcard";
    /// Action `…` contains whitespace and will never match.
    IAM_ACTION_WHITESPACE = "iam::action-whitespace";
    /// `Allow` with `NotPrincipal` grants access to everyone not listed.
    IAM_ALLOW_NOTPRINCIPAL = "iam::allow-notprincipal";
    /// `…` is not a valid account id.
    IAM_ARN_ACCOUNT = "iam::arn-account";
    /// Resource `…` cannot contain an account id.
    IAM_ARN_ACCOUNT_NOT_ALLOWED = "iam::arn-account-not-allowed";
    /// Resource `…` must be an ARN or `*`.
    IAM_ARN_FORMAT = "iam::arn-format";
    /// Partition `…` is not valid for resource `…`.
    IAM_ARN_PARTITION = "iam::arn-partition";
    /// `…` is not a valid Region.
    IAM_ARN_REGION = "iam::arn-region";
    /// Resource `…` needs a Region: every ARN format of its service has one.
    IAM_ARN_REGION_MISSING = "iam::arn-region-missing";
    /// Resource `…` cannot contain a Region.
    IAM_ARN_REGION_NOT_ALLOWED = "iam::arn-region-not-allowed";
    /// Resource `…` fits none of its service's ARN formats: it matches no resource.
    IAM_ARN_RESOURCE = "iam::arn-resource";
    /// Service `…` in an ARN should be lower case.
    IAM_ARN_SERVICE_CASE = "iam::arn-service-case";
    /// Wildcard in the service of ARN `…`.
    IAM_ARN_SERVICE_WILDCARD = "iam::arn-service-wildcard";
    /// ARN `…` has … parts; an ARN has six.
    IAM_ARN_SHORT = "iam::arn-short";
    /// `…` is not an ARN: it has … of six parts.
    IAM_ARN_VALUE = "iam::arn-value";
    /// `Bool` takes a single value.
    IAM_BOOL_MULTIPLE = "iam::bool-multiple";
    /// An operator's value must be an object of context keys.
    IAM_CONDITION_BLOCK = "iam::condition-block";
    /// `…` tests no key.
    IAM_CONDITION_EMPTY = "iam::condition-empty";
    /// Empty condition key.
    IAM_CONDITION_KEY = "iam::condition-key";
    /// A service condition key that the statement's actions do not support.
    IAM_CONDITION_KEY_SERVICE = "iam::condition-key-service";
    /// Unknown condition operator `…`.
    IAM_CONDITION_OPERATOR = "iam::condition-operator";
    /// Condition key `…` has no values.
    IAM_CONDITION_VALUES = "iam::condition-values";
    /// A date without a time zone: it is read as UTC.
    IAM_DATE_OFFSET = "iam::date-offset";
    /// Duplicate statement id `…`.
    IAM_DUPLICATE_SID = "iam::duplicate-sid";
    /// `Effect` is not exactly `Allow` or `Deny`.
    IAM_EFFECT = "iam::effect";
    /// `…` and `…` cannot be in the same statement.
    IAM_ELEMENT_COMBINATION = "iam::element-combination";
    /// `…` is an empty array.
    IAM_EMPTY_LIST = "iam::empty-list";
    /// The principal is an empty object.
    IAM_EMPTY_PRINCIPAL = "iam::empty-principal";
    /// `Statement` is an empty array.
    IAM_EMPTY_STATEMENT = "iam::empty-statement";
    /// An Allow with `ForAllValues:` that also applies when the key is absent.
    IAM_FORALLVALUES_ABSENT_KEY = "iam::forallvalues-absent-key";
    /// `ForAllValues:` with the single-valued key `…` can be overly permissive.
    IAM_FORALLVALUES_SINGLE = "iam::forallvalues-single";
    /// `…` has host bits set; it means `…`.
    IAM_IP_HOST_BITS = "iam::ip-host-bits";
    /// The statement has no `Action` or `NotAction`.
    IAM_MISSING_ACTION = "iam::missing-action";
    /// The statement has no `Effect`.
    IAM_MISSING_EFFECT = "iam::missing-effect";
    /// … must name a principal.
    IAM_MISSING_PRINCIPAL = "iam::missing-principal";
    /// `…` is multivalued: `…` needs `ForAllValues:` or `ForAnyValue:`.
    IAM_MISSING_QUALIFIER = "iam::missing-qualifier";
    /// The statement has no `Resource` or `NotResource`.
    IAM_MISSING_RESOURCE = "iam::missing-resource";
    /// The policy has no `Statement`.
    IAM_MISSING_STATEMENT = "iam::missing-statement";
    /// A policy is a JSON object, found ….
    IAM_NOT_OBJECT = "iam::not-object";
    /// … does not support `NotPrincipal`.
    IAM_NOTPRINCIPAL_FORBIDDEN = "iam::notprincipal-forbidden";
    /// `Null` cannot take `IfExists`.
    IAM_NULL_IF_EXISTS = "iam::null-if-exists";
    /// `Null` with `ForAllValues:`/`ForAnyValue:` has a fixed result.
    IAM_NULL_WITH_QUALIFIER = "iam::null-with-qualifier";
    /// … cannot name a principal.
    IAM_PRINCIPAL_FORBIDDEN = "iam::principal-forbidden";
    /// A principal that is neither `*` nor an object such as ….
    IAM_PRINCIPAL_FORMAT = "iam::principal-format";
    /// Invalid principal `…`.
    IAM_PRINCIPAL_INVALID = "iam::principal-invalid";
    /// Wildcards are not allowed in principal `…`.
    IAM_PRINCIPAL_WILDCARD = "iam::principal-wildcard";
    /// A resource control policy can only deny.
    IAM_RCP_ALLOW = "iam::rcp-allow";
    /// A resource control policy does not support `NotAction`.
    IAM_RCP_NOTACTION = "iam::rcp-notaction";
    /// A resource control policy's principal must be "*".
    IAM_RCP_PRINCIPAL = "iam::rcp-principal";
    /// A role trust policy cannot have `Resource`.
    IAM_RESOURCE_FORBIDDEN = "iam::resource-forbidden";
    /// Statement id `…` has characters IAM does not accept.
    IAM_SID_CHARACTERS = "iam::sid-characters";
    /// The document is … bytes; the limit is … bytes.
    IAM_TOO_LARGE = "iam::too-large";
    /// `…` has no effect in a trust policy.
    IAM_TRUST_ACTION = "iam::trust-action";
    /// … must be a string, found ….
    IAM_TYPE = "iam::type";
    /// A `Binary` condition value that is not base64.
    IAM_TYPE_BINARY = "iam::type-binary";
    /// A `Bool` condition value other than `true` or `false`.
    IAM_TYPE_BOOL = "iam::type-bool";
    /// A `Date` condition value that is neither an ISO 8601 date nor epoch seconds.
    IAM_TYPE_DATE = "iam::type-date";
    /// An `IpAddress` condition value that is not an IPv4 or IPv6 address or CIDR range.
    IAM_TYPE_IP = "iam::type-ip";
    /// A `Numeric` condition value that is not a number.
    IAM_TYPE_NUMBER = "iam::type-number";
    /// `…` matches no action of `…`.
    IAM_UNKNOWN_ACTION = "iam::unknown-action";
    /// The global condition key `…` does not exist.
    IAM_UNKNOWN_CONDITION_KEY = "iam::unknown-condition-key";
    /// Unknown … element `…`.
    IAM_UNKNOWN_ELEMENT = "iam::unknown-element";
    /// `…` is not a service prefix in the Service Authorization Reference.
    IAM_UNKNOWN_SERVICE = "iam::unknown-service";
    /// `$(…` is not a valid policy variable.
    IAM_VARIABLE = "iam::variable";
    /// A policy variable in a `Bool` value.
    IAM_VARIABLE_BOOL = "iam::variable-bool";
    /// Policy variable is missing its closing `}`.
    IAM_VARIABLE_BRACE = "iam::variable-brace";
    /// The default value in `$(…` must be in single quotes.
    IAM_VARIABLE_DEFAULT = "iam::variable-default";
    /// Empty policy variable `$…`.
    IAM_VARIABLE_EMPTY = "iam::variable-empty";
    /// `…` is multivalued and cannot be a policy variable.
    IAM_VARIABLE_MULTIVALUED = "iam::variable-multivalued";
    /// Policy variables cannot be used with `…`.
    IAM_VARIABLE_OPERATOR = "iam::variable-operator";
    /// Policy variables are not allowed in actions.
    IAM_VARIABLE_PLACE = "iam::variable-place";
    /// `$(…` must have exactly one space after the comma.
    IAM_VARIABLE_SPACE = "iam::variable-space";
    /// `$…` is literal text: policy variables need "Version": "2012-10-17".
    IAM_VARIABLE_VERSION = "iam::variable-version";
    /// Unknown policy version `…`.
    IAM_VERSION = "iam::version";
    /// The policy has no `Version`; the 2008-10-17 language applies.
    IAM_VERSION_MISSING = "iam::version-missing";
    /// … must be version 2012-10-17.
    IAM_VERSION_REQUIRED = "iam::version-required";
    /// `*` is a literal character in `…`.
    IAM_WILDCARD_WITHOUT_LIKE = "iam::wildcard-without-like";

    // The spanned JSON reader.
    /// Comments are not allowed in JSON.
    JSON_COMMENT = "json::comment";
    /// Control character U+… inside a string.
    JSON_CONTROL_CHARACTER = "json::control-character";
    /// Duplicate key `…`.
    JSON_DUPLICATE_KEY = "json::duplicate-key";
    /// The document is empty.
    JSON_EMPTY = "json::empty";
    /// The document ends where a value was expected.
    JSON_EOF = "json::eof";
    /// Invalid escape: ….
    JSON_ESCAPE = "json::escape";
    /// Expected `:` after key `…`.
    JSON_EXPECTED_COLON = "json::expected-colon";
    /// Expected `,` or `]` after an array element.
    JSON_EXPECTED_COMMA = "json::expected-comma";
    /// Expected a quoted key or `}`.
    JSON_EXPECTED_KEY = "json::expected-key";
    /// A comma with no value before it.
    JSON_EXTRA_COMMA = "json::extra-comma";
    /// A closing bracket of the wrong kind.
    JSON_MISMATCHED_BRACKET = "json::mismatched-bracket";
    /// Missing `,` between array elements.
    JSON_MISSING_COMMA = "json::missing-comma";
    /// The document starts with a key: its opening `{` is missing.
    JSON_MISSING_OPEN_BRACE = "json::missing-open-brace";
    /// `…` is not a valid JSON number.
    JSON_NUMBER = "json::number";
    /// A value that does not have the shape this input needs: an unknown field, a wrong type, a
    /// missing field, a value out of range (located at the key or value concerned).
    JSON_SHAPE = "json::shape";
    /// Strings must use double quotes.
    JSON_SINGLE_QUOTE = "json::single-quote";
    /// Nesting deeper than … levels.
    JSON_TOO_DEEP = "json::too-deep";
    /// Trailing comma before `…`.
    JSON_TRAILING_COMMA = "json::trailing-comma";
    /// More than one JSON value: a policy is exactly one object.
    JSON_TRAILING_CONTENT = "json::trailing-content";
    /// The document ends inside an ….
    JSON_UNCLOSED = "json::unclosed";
    /// Expected a JSON value, found `…`.
    JSON_UNEXPECTED = "json::unexpected";
    /// Unicode spaces (non-breaking, zero-width) where JSON allows only ASCII whitespace.
    JSON_UNICODE_SPACE = "json::unicode-space";
    /// Key `…` is not quoted.
    JSON_UNQUOTED_KEY = "json::unquoted-key";
    /// `…` is not a JSON value.
    JSON_UNQUOTED_STRING = "json::unquoted-string";
    /// This string is never closed.
    JSON_UNTERMINATED_STRING = "json::unterminated-string";
    /// Invalid UTF-8 at byte ….
    JSON_UTF8 = "json::utf8";

    // The local Lambda execution environment.
    /// A function configuration that cannot run: a handler file or directory that does not exist, an
    /// interpreter or program not found, a timeout outside 1–900 s.
    LAMBDA_CONFIG = "lambda::config";
    /// The function's process exited before answering (`Runtime.ExitError`); it is started again at the
    /// next invocation. Behind API Gateway: 500.
    LAMBDA_EXITED = "lambda::exited";
    /// The function answered with an error (`errorType`, `errorMessage`). Behind API Gateway: 401 when
    /// the message is `Unauthorized`, else 500.
    LAMBDA_FUNCTION_ERROR = "lambda::function-error";
    /// The function could not initialise (`/init/error`: a module that does not import, a handler that
    /// is not exported) or did not ask for an event within 10 s. Behind API Gateway: 500.
    LAMBDA_INIT = "lambda::init";
    /// A request or response payload over Lambda's 6 MB. Behind API Gateway: 500.
    LAMBDA_PAYLOAD_TOO_LARGE = "lambda::payload-too-large";
    /// The function's process could not be started.
    LAMBDA_SPAWN = "lambda::spawn";
    /// The function did not answer within its timeout (`Task timed out after N seconds`); the process
    /// is stopped. Behind API Gateway: 500.
    LAMBDA_TIMEOUT = "lambda::timeout";

    // `lint`.
    /// One of IAM Access Analyzer's policy checks that `lint` decides (the finding's Access Analyzer
    /// issue code names which: `PASS_ROLE_WITH_STAR_IN_RESOURCE`, `REDUNDANT_ACTION`, …).
    LINT_CHECK = "lint::check";
    /// An identity policy or permissions boundary larger than a customer managed policy may be (6,144
    /// characters without whitespace), though within Access Analyzer's 10,240 for inline policies.
    LINT_MANAGED_POLICY_SIZE = "lint::managed-policy-size";
    /// A file with more findings than `lint` lists (… are listed; the count of the rest is given), or a
    /// statement whose redundancy check stopped at its bound (… comparisons of wildcards with items).
    LINT_TRUNCATED = "lint::truncated";

    // Identity pools.
    /// An identity-pool configuration that cannot be used.
    POOL_CONFIG = "pool::config";
    /// A request sets a context key that the identity-pool session owns.
    POOL_CONTEXT_OVERRIDE = "pool::context-override";
    /// Cognito refuses the login (unverified or untrusted provider, disabled guest access); AWS answers `NotAuthorizedException`.
    POOL_NOT_AUTHORIZED = "pool::not-authorized";

    // The Python package.
    /// A wrong argument to a Python call (a missing or extra one, a value out of its set).
    PYTHON_ARGUMENT = "python::argument";
    /// A configuration (pool, store, group store, JWKS file) the Python package cannot load.
    PYTHON_CONFIG = "python::config";
    /// A file the Python package cannot read.
    PYTHON_FILE = "python::file";
    /// A request (or event, or claims) that is not a request: not a dict of JSON-like values, a missing
    /// or unknown field, a wrong type, a string that is not valid UTF-8.
    PYTHON_REQUEST = "python::request";
    /// An answer that cannot be given back to Python.
    PYTHON_RESULT = "python::result";

    // Reasoning about policies (`check`, the semantic checks).
    /// A question that cannot be asked: no action and no resource for `access-not-granted`, a resource
    /// type `CheckNoPublicAccess` does not take, an action that is not `service:action`, a Cedar store
    /// without a schema or with policies its schema refuses.
    REASON_INPUT = "reason::input";
    /// The SMT solver (Z3; cvc5 for the Cedar checks) is missing, or failed, or answered something that
    /// is not SMT-LIB.
    REASON_SOLVER = "reason::solver";
    /// The SMT solver did not answer in the time given.
    REASON_TIMEOUT = "reason::timeout";

    // The `serve` command's configuration.
    /// A configuration `serve` cannot start or reload with: an unreadable file, two stores under one id,
    /// an `--iam` principal that is not a user or role ARN, a policy it names that is refused.
    SERVE_CONFIG = "serve::config";

    // Token verification.
    /// `exp` has passed.
    TOKEN_EXPIRED = "token::expired";
    /// `aud` / `client_id` is not an accepted client.
    TOKEN_INVALID_CLIENT = "token::invalid-client";
    /// `iss` is not an accepted issuer.
    TOKEN_INVALID_ISSUER = "token::invalid-issuer";
    /// The JWK is not an RSA signing key for RS256.
    TOKEN_INVALID_JWK = "token::invalid-jwk";
    /// The signature does not verify.
    TOKEN_INVALID_SIGNATURE = "token::invalid-signature";
    /// `token_use` is not the expected one.
    TOKEN_INVALID_TOKEN_USE = "token::invalid-token-use";
    /// `iat` is in the future.
    TOKEN_ISSUED_IN_FUTURE = "token::issued-in-future";
    /// The JWKS could not be read or fetched.
    TOKEN_JWKS_UNAVAILABLE = "token::jwks-unavailable";
    /// Not three base64url parts with JSON objects in the first two.
    TOKEN_MALFORMED = "token::malformed";
    /// A test key or token that could not be made (key generation, PEM, signing, the key directory).
    TOKEN_MINT = "token::mint";
    /// A required claim is absent or of the wrong type.
    TOKEN_MISSING_CLAIM = "token::missing-claim";
    /// The user is in none of the required groups.
    TOKEN_MISSING_GROUP = "token::missing-group";
    /// The token header has no `kid`.
    TOKEN_MISSING_KID = "token::missing-kid";
    /// The token has none of the required scopes.
    TOKEN_MISSING_SCOPE = "token::missing-scope";
    /// `nbf` is in the future.
    TOKEN_NOT_YET_VALID = "token::not-yet-valid";
    /// The token is larger than the limit.
    TOKEN_TOO_LARGE = "token::too-large";
    /// No key with the token's `kid` in the JWKS.
    TOKEN_UNKNOWN_KID = "token::unknown-kid";
    /// `alg` other than RS256.
    TOKEN_UNSUPPORTED_ALGORITHM = "token::unsupported-algorithm";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_and_namespaced() {
        for w in ALL.windows(2) {
            if let [a, b] = w {
                assert!(a.code < b.code, "{} is not before {}", a.code, b.code);
            }
        }
        let spaces = [
            "json", "iac", "iam", "eval", "token", "pool", "cedar", "apigw", "cognito", "lambda",
            "lint", "python", "reason", "serve",
        ];
        for c in ALL {
            let (ns, name) = c.code.split_once("::").unwrap_or(("", ""));
            assert!(spaces.contains(&ns), "{}", c.code);
            assert!(
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                c.code
            );
            assert!(c.doc.trim().len() > 10, "{} has no description", c.code);
        }
        assert!(is_registered(JSON_DUPLICATE_KEY));
        assert!(!is_registered("json::duplicate_key"));
    }
}
