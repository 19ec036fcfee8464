# Runs ON the target host as a scheduled task (SYSTEM), detached from any WinRM session: registering or
# unregistering an endpoint restarts WinRM and would kill the session that asked for it. The request is a JSON
# file (data) written by the runbook; the outcome goes to a JSON file next to it.
param([Parameter(Mandatory)][string]$RequestFile)
$ErrorActionPreference = 'Stop'
$request = Get-Content -LiteralPath $RequestFile -Raw | ConvertFrom-Json
$outcome = [ordered]@{ ok = $true; error = $null; finishedAt = $null }
try {
    if ($request.action -eq 'register') {
        Register-PSSessionConfiguration -Path ([string]$request.psscPath) -Name ([string]$request.name) -Force | Out-Null
    }
    elseif ($request.action -eq 'unregister') {
        Unregister-PSSessionConfiguration -Name ([string]$request.name) -Force | Out-Null
    }
    else {
        throw [System.ArgumentException]::new('unknown action')
    }
}
catch {
    $outcome.ok = $false
    $outcome.error = $_.Exception.Message
}
$outcome.finishedAt = (Get-Date).ToUniversalTime().ToString('o')
ConvertTo-Json -InputObject $outcome -Compress | Set-Content -LiteralPath ($RequestFile + '.result.json') -Encoding UTF8
