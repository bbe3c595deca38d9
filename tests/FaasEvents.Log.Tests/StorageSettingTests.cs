using FaasEvents.DevStorage;

namespace FaasEvents.Log.Tests;

public class StorageSettingTests
{
    [Fact]
    public void Empty_setting_means_azurite_development_storage()
    {
        EventLogClient log = EventLogClient.FromSetting(null);
        Assert.Contains("Azurite", log.StorageDescription, StringComparison.Ordinal);
        Assert.Equal("faas", log.Container.Name);
    }

    [Fact]
    public void Https_endpoint_uses_a_token_credential_and_names_it()
    {
        EventLogClient log = EventLogClient.FromSetting("https://myaccount.blob.core.windows.net");
        Assert.Equal("https://myaccount.blob.core.windows.net (DefaultAzureCredential)", log.StorageDescription);
        Assert.Equal(new Uri("https://myaccount.blob.core.windows.net/faas"), log.Container.Uri);
    }

    [Fact]
    public void Connection_string_description_never_holds_the_key()
    {
        EventLogClient log = EventLogClient.FromSetting(AzuriteProcess.GetConnectionString(12345));
        Assert.Equal("http://127.0.0.1:12345/devstoreaccount1 (connection string)", log.StorageDescription);
        Assert.DoesNotContain(AzuriteProcess.AccountKey, log.StorageDescription, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_setting_is_a_clear_error_that_does_not_echo_it()
    {
        EventLogException ex = Assert.Throws<EventLogException>(() => EventLogClient.FromSetting("AccountKey=s3cret;nonsense"));
        Assert.Equal(EventLogErrorReason.InvalidArgument, ex.Reason);
        Assert.DoesNotContain("s3cret", ex.Message, StringComparison.Ordinal);
    }
}
